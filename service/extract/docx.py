"""DOCX text via python-docx, after checking the zip package is not a bomb and has no DTD.

Body blocks (paragraphs and tables, including those wrapped in content controls) come out in document
order, one paragraph or table row per line: headings as Markdown `#` lines, table rows as cells joined
by " | ". Explicit page breaks (`w:br w:type="page"`, "page break before", next-page section breaks)
open a new page in `page_starts`; a document without any is page 1.

Contracts keep definitions and caveats outside the body too, so after it come, on the last page:
"## Footnotes" / "## Endnotes" (`[^N] text`, with `[^N]` marks where the body refers to them),
"## Headers and footers" (each distinct text once) and "## Comments" (`author: text`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.oxml.parser import parse_xml

from service.config import LimitSettings
from service.errors import ExtractionFailed, LongdocError
from service.models import ExtractedText

from ._common import check_chars

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_ENTRIES = 10_000
# Ratios are only meaningful for parts big enough to hurt.
RATIO_FLOOR_BYTES = 1 << 20
_DOCTYPE = (b"<!doctype", "<!doctype".encode("utf-16-le"), "<!doctype".encode("utf-16-be"))
_RUNS = (
    "./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:hyperlink/w:ins/w:r | ./w:smartTag/w:r"
    " | ./w:fldSimple/w:r | ./w:sdt/w:sdtContent/w:r"
)
_TEXT_TAGS = frozenset(W + tag for tag in ("t", "tab", "br", "cr", "noBreakHyphen", "ptab"))
_HEADING = re.compile(r"^heading ([1-9])$", re.IGNORECASE)


def extract_docx(path: Path, limits: LimitSettings) -> ExtractedText:
    """Extract a Word document's body text with page anchors at explicit page breaks."""
    check_package(path, limits)
    try:
        document = docx.Document(str(path))
        styles = {style.style_id: style.name or "" for style in document.styles}
        title = (document.core_properties.title or "").strip()
        body: Any = document.element.body
        out = _Text(limits)
        for block in _blocks(body):
            if block.tag == W + "p":
                _add_paragraph(out, block, styles)
            else:
                _add_table(out, block)
        notes = _side_parts(document)
        for title, lines in notes.items():
            out.line(f"## {title}")
            for line in lines:
                out.line(line)
    except (LongdocError, MemoryError):
        raise
    except Exception as exc:  # python-docx/lxml raise many types on damaged packages
        raise ExtractionFailed(
            f"The DOCX could not be read: {type(exc).__name__}: {exc}"[:500], code="malformed"
        ) from exc
    meta: dict[str, object] = {"pages": len(out.page_starts), "headings": out.headings, "tables": out.tables}
    meta |= {_meta_key(title): len(lines) for title, lines in notes.items()}
    if title:
        meta["title"] = title
    return ExtractedText(text="".join(out.parts), kind="docx", page_starts=out.page_starts, meta=meta)


def check_package(path: Path, limits: LimitSettings) -> None:
    """Refuse zip bombs (by the central directory) and XML parts carrying a DOCTYPE (XXE, billion laughs)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_sizes(infos, limits)
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    _refuse_doctype(zf, info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ExtractionFailed(f"The DOCX package is damaged: {exc}", code="malformed") from exc


def _check_sizes(infos: list[zipfile.ZipInfo], limits: LimitSettings) -> None:
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    details = {"entries": len(infos), "uncompressed_bytes": total, "compressed_bytes": packed}
    if len(infos) > MAX_ENTRIES or total > limits.max_decompressed_bytes:
        raise ExtractionFailed(
            "The DOCX package is too large when unpacked.", code="archive_bomb", details=details
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_archive_ratio * max(
            info.compress_size, 1
        ):
            raise ExtractionFailed(
                f"The DOCX part {info.filename} has a compression ratio above {limits.max_archive_ratio}.",
                code="archive_bomb",
                details=details,
            )


def _refuse_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    keep = max(len(pattern) for pattern in _DOCTYPE) - 1
    tail = b""
    with zf.open(info) as fh:  # reads at most the declared (already capped) size
        while chunk := fh.read(1 << 16):
            window = (tail + chunk).lower()
            if any(pattern in window for pattern in _DOCTYPE):
                raise ExtractionFailed(
                    f"The DOCX part {info.filename} declares a DOCTYPE, which OOXML forbids.",
                    code="malformed",
                )
            tail = window[-keep:]


class _Text:
    """Accumulates lines and page starts; the newline before a line belongs to the previous page."""

    def __init__(self, limits: LimitSettings):
        self.limits = limits
        self.parts: list[str] = []
        self.length = 0
        self.page_starts = [0]
        self.headings = 0
        self.tables = 0

    def line(self, text: str) -> None:
        if not text.strip():
            return
        if self.parts:
            text = "\n" + text
        self.length = check_chars(self.length + len(text), self.limits)
        self.parts.append(text)

    def page_break(self) -> None:
        self.page_starts.append(self.length + 1 if self.parts else 0)


def _blocks(container: Any) -> Iterator[Any]:
    """w:p and w:tbl children in document order, looking inside block-level content controls."""
    for child in container.iterchildren():
        if child.tag in (W + "p", W + "tbl"):
            yield child
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _blocks(content)
        elif child.tag == W + "customXml":
            yield from _blocks(child)


def _add_paragraph(out: _Text, p: Any, styles: dict[str, str]) -> None:
    if _flag(p, "./w:pPr/w:pageBreakBefore"):
        out.page_break()
    prefix = _heading_prefix(p, styles)
    if prefix:
        out.headings += 1
    segments = _segments(p)
    for index, segment in enumerate(segments):
        if index:
            out.page_break()
        out.line(prefix + segment if segment.strip() else segment)
    sect_type = p.xpath("./w:pPr/w:sectPr/w:type/@w:val")
    if p.xpath("./w:pPr/w:sectPr") and (not sect_type or sect_type[0] != "continuous"):
        out.page_break()


def _segments(p: Any) -> list[str]:
    """The paragraph's text, split where explicit page breaks fall."""
    segments = [""]
    for run in p.xpath(_RUNS):
        for child in run.iterchildren():
            if child.tag == W + "br" and child.get(W + "type") == "page":
                segments.append("")
            elif child.tag in _TEXT_TAGS:
                segments[-1] += str(child)
            elif child.tag in _NOTE_REFERENCES:
                segments[-1] += f"[^{_NOTE_REFERENCES[child.tag]}{child.get(W + 'id')}]"
    return segments


# Side parts by relationship type (the tail of the URI), with the section each goes to.
_SIDE_PARTS = {
    "/footnotes": "Footnotes",
    "/endnotes": "Endnotes",
    "/header": "Headers and footers",
    "/footer": "Headers and footers",
    "/comments": "Comments",
}
_NOTE_REFERENCES = {W + "footnoteReference": "", W + "endnoteReference": "e"}
_NOTES = {"Footnotes": (W + "footnote", ""), "Endnotes": (W + "endnote", "e")}


def _side_parts(document: Any) -> dict[str, list[str]]:
    """Footnotes, endnotes, headers/footers and comments as lines per section title (empty ones left out)."""
    found: dict[str, list[str]] = {}
    for rel in document.part.rels.values():
        title = next((t for tail, t in _SIDE_PARTS.items() if rel.reltype.endswith(tail)), None)
        if title is None or rel.is_external:
            continue
        root = parse_xml(rel.target_part.blob)  # python-docx's parser: no entities resolved; xpath with w:
        lines = found.setdefault(title, [])
        if title in _NOTES:
            tag, mark = _NOTES[title]
            for note in root.iter(tag):
                if note.get(W + "type") in (None, "normal"):  # not the separator lines
                    text = _paragraphs_text(note)
                    if text:
                        lines.append(f"[^{mark}{note.get(W + 'id')}] {text}")
        elif title == "Comments":
            for comment in root.iter(W + "comment"):
                text = _paragraphs_text(comment)
                if text:
                    lines.append(f"{comment.get(W + 'author') or 'unknown'}: {text}")
        else:
            text = _paragraphs_text(root)
            if text and text not in lines:
                lines.append(text)
    return {title: lines for title, lines in sorted(found.items(), key=_section_order) if lines}


def _section_order(item: tuple[str, list[str]]) -> int:
    return list(dict.fromkeys(_SIDE_PARTS.values())).index(item[0])


def _paragraphs_text(element: Any) -> str:
    paragraphs = (" ".join(_segments(p)).strip() for p in element.iter(W + "p"))
    return " ".join(text for text in paragraphs if text)


def _meta_key(title: str) -> str:
    return title.lower().replace(" and ", "_").replace(" ", "_")


def _heading_prefix(p: Any, styles: dict[str, str]) -> str:
    style_ids = p.xpath("./w:pPr/w:pStyle/@w:val")
    name = styles.get(style_ids[0], style_ids[0]) if style_ids else ""
    if name.lower() == "title":
        return "# "
    match = _HEADING.match(name)
    return "#" * int(match.group(1)) + " " if match else ""


def _flag(p: Any, xpath: str) -> bool:
    found = p.xpath(xpath)
    return bool(found) and found[0].get(W + "val") not in ("0", "false", "off")


def _add_table(out: _Text, tbl: Any) -> None:
    out.tables += 1
    for row in tbl.xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr"):
        cells = [_cell_text(tc) for tc in row.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc")]
        if any(cells):
            out.line(" | ".join(cells))


def _cell_text(tc: Any) -> str:
    paragraphs = (" ".join(_segments(p)).strip() for p in tc.iter(W + "p"))
    return " ".join(text for text in paragraphs if text).replace("\n", " ")
