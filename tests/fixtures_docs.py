"""Generators of real test documents (PDF via reportlab, DOCX via python-docx, gzip logs, hostile archives).

Shared by any test that needs documents on disk; every function writes to the path it is given.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

Block = tuple[str, object]  # ("h1".."h3" | "p", str), ("table", list[list[str]]), ("pagebreak", None)


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A text PDF with one list of paragraphs per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    body = getSampleStyleSheet()["BodyText"]
    story: list[object] = []
    for index, paragraphs in enumerate(pages):
        if index:
            story.append(PageBreak())
        story += [Paragraph(text, body) for text in paragraphs]
    SimpleDocTemplate(str(path), pagesize=A4, title="Fixture").build(story)
    return path


def make_many_page_pdf(path: Path, pages: int) -> Path:
    return make_pdf(path, [[f"Page {n} of the long fixture. " * 20] for n in range(1, pages + 1)])


def make_blank_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF whose pages carry only drawings: no text layer, like a scan."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path))
    for _ in range(pages):
        canvas.rect(100, 100, 200, 200, fill=1)
        canvas.showPage()
    canvas.save()
    return path


def encrypt_pdf(source: Path, target: Path, user_password: str, owner_password: str = "owner") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def make_docx(path: Path, blocks: list[Block]) -> Path:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    for kind, value in blocks:
        if kind.startswith("h"):
            document.add_heading(str(value), level=int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "table":
            rows = value if isinstance(value, list) else []
            table = document.add_table(rows=0, cols=len(rows[0]))
            for row in rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
        elif kind == "pagebreak":
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))
    return path


def replace_zip_member(source: Path, target: Path, member: str, payload: bytes | None = None) -> Path:
    """Copy a zip, replacing one member's bytes (None: keep them), streaming big payloads."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = payload if info.filename == member and payload is not None else src.read(info)
            dst.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return target


def make_docx_bomb(source_docx: Path, target: Path, inflated_bytes: int) -> Path:
    """A DOCX whose document.xml is a tiny, hugely compressible payload of `inflated_bytes`."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>"
    )
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    with zipfile.ZipFile(source_docx) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open("word/document.xml", "w", force_zip64=True) as fh:
                fh.write(head)
                block = b"A" * (1 << 20)
                for _ in range(inflated_bytes // len(block)):
                    fh.write(block)
                fh.write(tail)
    return target


def make_docx_with_doctype(source_docx: Path, target: Path) -> Path:
    """A DOCX whose document.xml declares a DTD with an internal entity (the XXE / billion-laughs shape)."""
    with zipfile.ZipFile(source_docx) as src:
        xml = src.read("word/document.xml")
    declaration, rest = xml.split(b"?>", 1)
    doctype = b'<!DOCTYPE w:document [<!ENTITY lol "lol">]>'
    return replace_zip_member(source_docx, target, "word/document.xml", declaration + b"?>" + doctype + rest)


def write_gz(path: Path, data: bytes) -> Path:
    with gzip.open(path, "wb") as fh:
        fh.write(data)
    return path


def truncate(source: Path, target: Path, keep_fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep_fraction)])
    return target


def log_lines(count: int, start_hour: int = 9) -> list[str]:
    """`count` log lines with ISO timestamps, one second apart."""
    lines = []
    for n in range(count):
        minute, second = divmod(n, 60)
        hour = start_hour + minute // 60
        level = "ERROR" if n % 17 == 0 else "INFO"
        lines.append(f"2025-03-14T{hour:02d}:{minute % 60:02d}:{second:02d}Z {level} [svc] event number {n}")
    return lines


def copy(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_FOOTNOTES_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{_W_NS}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:id="1"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:footnote></w:footnotes>'
)


def make_docx_with_side_parts(
    path: Path, body: str, footnote: str, header: str, footer: str, comment: str
) -> Path:
    """A DOCX whose body paragraph refers to footnote 1, with a header, a footer and a comment by 'Legal'.
    python-docx writes all but the footnote; that part, its relationship and content type are added here."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = header
    section.footer.paragraphs[0].text = footer
    paragraph = document.add_paragraph(body)
    reference = OxmlElement("w:footnoteReference")
    reference.set(qn("w:id"), "1")
    paragraph.add_run()._r.append(reference)
    document.add_comment(paragraph.runs[0], text=comment, author="Legal")
    plain = path.with_suffix(".plain.docx")
    document.save(str(plain))
    rel = (
        '<Relationship Id="rIdFootnotes" Target="footnotes.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"/>'
    )
    override = (
        '<Override PartName="/word/footnotes.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>'
    )
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            dst.writestr(info, data)
        dst.writestr("word/footnotes.xml", _FOOTNOTES_XML.replace("{text}", footnote))
    plain.unlink()
    return path
