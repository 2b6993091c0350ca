"""Extraction stage: sniffing, each format with its anchors, encodings, hostile inputs, isolation."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pypdf import PdfReader

from service.config import LimitSettings
from service.errors import ExtractionFailed, UnsupportedMediaType
from service.extract import extract, extract_isolated, sniff
from tests import fixtures_docs as fx

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"
DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIMITS = LimitSettings()


def _failure(path: Path, kind: str, limits: LimitSettings = LIMITS) -> ExtractionFailed:
    with pytest.raises(ExtractionFailed) as info:
        extract(path, kind, limits)  # type: ignore[arg-type]
    return info.value


# ---------------------------------------------------------------- PDF


@pytest.fixture()
def three_page_pdf(tmp_path: Path) -> Path:
    pages = [
        [f"Alpha paragraph on page {n}.", f"Second paragraph of page {n} mentions clause {n}.{n}."]
        for n in (1, 2, 3)
    ]
    return fx.make_pdf(tmp_path / "three.pdf", pages)


def test_pdf_pages_are_contiguous_slices_matching_pypdf(three_page_pdf: Path) -> None:
    result = extract(three_page_pdf, "pdf", LIMITS)
    reader = PdfReader(three_page_pdf)
    assert result.page_count == 3 and result.meta["pages"] == 3
    for number in (1, 2, 3):
        start, end = result.page_span(number)
        page_text = result.text[start:end]
        assert f"page {number}" in page_text
        separator = "\n" if number < 3 else ""
        assert page_text == reader.pages[number - 1].extract_text() + separator
    offset = result.text.index("clause 2.2")
    assert result.page_at(offset) == 2
    assert "page 1" not in result.text[slice(*result.page_span(2))]


def test_sample_contract_pdf_is_multi_page_with_clauses() -> None:
    result = extract(SAMPLES / "master_services_agreement.pdf", "pdf", LIMITS)
    assert 5 <= result.page_count <= 8
    assert result.meta["title"] == "Master Services Agreement"
    assert "Northwind Analytics Ltd." in result.text and "Contoso Retail GmbH" in result.text
    assert "seven percent (7%)" in result.text
    fee_page = result.page_at(result.text.index("Schedule 1 - Fee Schedule"))
    assert fee_page == result.page_count


def test_encrypted_pdf_is_refused(three_page_pdf: Path, tmp_path: Path) -> None:
    locked = fx.encrypt_pdf(three_page_pdf, tmp_path / "locked.pdf", user_password="s3cret")
    assert _failure(locked, "pdf").code == "encrypted"


def test_owner_password_only_pdf_is_opened(three_page_pdf: Path, tmp_path: Path) -> None:
    restricted = fx.encrypt_pdf(three_page_pdf, tmp_path / "restricted.pdf", user_password="")
    result = extract(restricted, "pdf", LIMITS)
    assert result.meta["encrypted"] is True
    assert "clause 3.3" in result.text


def test_truncated_pdf_is_malformed_or_partial(three_page_pdf: Path, tmp_path: Path) -> None:
    broken = fx.truncate(three_page_pdf, tmp_path / "broken.pdf", 0.3)
    assert _failure(broken, "pdf").code == "malformed"


def test_garbage_after_pdf_header_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert _failure(path, "pdf").code == "malformed"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    assert _failure(fx.make_blank_pdf(tmp_path / "scan.pdf"), "pdf").code == "no_text_layer"


def test_pdf_page_limit(three_page_pdf: Path) -> None:
    failure = _failure(three_page_pdf, "pdf", LimitSettings(max_pdf_pages=2))
    assert failure.code == "too_many_pages" and failure.details["pages"] == 3


def test_pdf_char_limit(three_page_pdf: Path) -> None:
    assert _failure(three_page_pdf, "pdf", LimitSettings(max_extracted_chars=50)).code == "too_large"


# ---------------------------------------------------------------- DOCX


BLOCKS: list[fx.Block] = [
    ("h1", "Agreement Overview"),
    ("p", "Opening paragraph before the table."),
    ("table", [["Item", "Fee"], ["Support", "EUR 4,500"]]),
    ("h2", "Payment"),
    ("p", "Invoices are payable net 30."),
    ("pagebreak", None),
    ("p", "Text on the second page."),
]


def test_docx_blocks_in_document_order(tmp_path: Path) -> None:
    result = extract(fx.make_docx(tmp_path / "a.docx", BLOCKS), "docx", LIMITS)
    assert result.text.splitlines() == [
        "# Agreement Overview",
        "Opening paragraph before the table.",
        "Item | Fee",
        "Support | EUR 4,500",
        "## Payment",
        "Invoices are payable net 30.",
        "Text on the second page.",
    ]
    assert result.meta["headings"] == 2 and result.meta["tables"] == 1


def test_docx_page_break_starts_page_two(tmp_path: Path) -> None:
    result = extract(fx.make_docx(tmp_path / "a.docx", BLOCKS), "docx", LIMITS)
    assert result.page_count == 2
    assert result.text[slice(*result.page_span(2))] == "Text on the second page."
    assert "net 30" in result.text[slice(*result.page_span(1))]


def test_docx_without_breaks_is_page_one(tmp_path: Path) -> None:
    result = extract(fx.make_docx(tmp_path / "b.docx", [("p", "Only paragraph.")]), "docx", LIMITS)
    assert result.page_starts == [0] and result.page_at(3) == 1


def test_sample_contract_docx() -> None:
    result = extract(SAMPLES / "master_services_agreement.docx", "docx", LIMITS)
    assert result.page_count >= 2
    assert "# 13. Termination" in result.text
    assert "Platform subscription | 240,000 per year | Quarterly in advance (60,000)" in result.text
    assert result.page_at(result.text.index("Platform subscription")) == result.page_count


def test_docx_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    plain = fx.make_docx(tmp_path / "plain.docx", [("p", "x")])
    bomb = fx.make_docx_bomb(plain, tmp_path / "bomb.docx", inflated_bytes=64 << 20)
    assert bomb.stat().st_size < 1 << 20
    failure = _failure(bomb, "docx")
    assert failure.code == "archive_bomb"
    assert failure.details["uncompressed_bytes"] > 64 << 20


def test_docx_total_size_cap(tmp_path: Path) -> None:
    plain = fx.make_docx(tmp_path / "plain.docx", [("p", "x")])
    assert _failure(plain, "docx", LimitSettings(max_decompressed_bytes=10_000)).code == "archive_bomb"


def test_docx_with_doctype_is_refused(tmp_path: Path) -> None:
    plain = fx.make_docx(tmp_path / "plain.docx", [("p", "x")])
    hostile = fx.make_docx_with_doctype(plain, tmp_path / "xxe.docx")
    failure = _failure(hostile, "docx")
    assert failure.code == "malformed" and "DOCTYPE" in failure.message


def test_docx_with_broken_xml_is_malformed(tmp_path: Path) -> None:
    plain = fx.make_docx(tmp_path / "plain.docx", [("p", "x")])
    broken = fx.replace_zip_member(plain, tmp_path / "broken.docx", "word/document.xml", b"<w:document")
    assert _failure(broken, "docx").code == "malformed"


# ---------------------------------------------------------------- text and logs


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16-le"),
        ("utf-16-be", None),
        ("cp1252", "cp1252"),
    ],
)
def test_text_encodings(tmp_path: Path, encoding: str, expected: str | None) -> None:
    content = "Résumé of the café meeting – naïve “quotes” in Zürich\nsecond line €\n"
    data = content.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
        expected = "utf-16-be"
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    assert sniff(path, "notes.txt") == ("text", "text/plain")
    result = extract(path, "text", LIMITS)
    assert result.text == content
    assert result.meta["encoding"] == expected


def test_latin1_accents_decoded(tmp_path: Path) -> None:
    content = "Straße, Ärger, élève, garçon, año\n" * 50
    path = tmp_path / "latin.txt"
    path.write_bytes(content.encode("latin-1"))
    result = extract(path, "text", LIMITS)
    assert result.text == content
    assert result.meta["encoding"] != "utf-8"


def test_late_non_utf8_byte_falls_back_after_full_scan(tmp_path: Path) -> None:
    path = tmp_path / "late.txt"
    path.write_bytes(b"plain ascii line\n" * 200_000 + "naïve\n".encode("cp1252"))
    result = extract(path, "text", LIMITS)
    assert result.text.endswith("naïve\n")
    assert result.line_count == 200_001


def test_crlf_and_lone_cr_keep_file_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"line one\r\nline two\rline three\r\n\r\nline five\x00\r\n")
    result = extract(path, "log", LIMITS)
    assert result.text == "line one\nline two\nline three\n\nline five\n"
    assert result.line_count == 5
    assert result.line_at(result.text.index("line five")) == 5
    assert result.meta["nul_bytes_removed"] == 1


def test_crlf_split_across_read_chunks(tmp_path: Path) -> None:
    from service.extract import text as text_module

    path = tmp_path / "big.log"
    first = b"x" * (text_module.CHUNK_BYTES - 1) + b"\r"
    path.write_bytes(first + b"\nsecond\r\nthird\n")
    result = extract(path, "log", LIMITS)
    assert result.line_count == 3 and result.text.endswith("x\nsecond\nthird\n")


def test_gzip_log(tmp_path: Path) -> None:
    lines = fx.log_lines(500)
    path = fx.write_gz(tmp_path / "app.log.gz", ("\r\n".join(lines) + "\r\n").encode())
    assert sniff(path, "app.log.gz") == ("log", "application/gzip")
    result = extract(path, "log", LIMITS)
    assert result.line_count == 500 and result.meta["compressed"] is True
    assert result.text.splitlines()[341] == lines[341]


def test_truncated_gzip(tmp_path: Path) -> None:
    full = fx.write_gz(tmp_path / "full.log.gz", "\n".join(fx.log_lines(5000)).encode())
    cut = fx.truncate(full, tmp_path / "cut.log.gz", 0.5)
    assert _failure(cut, "log").code == "truncated_archive"


def test_gzip_bomb_stops_at_ratio(tmp_path: Path) -> None:
    path = fx.write_gz(tmp_path / "bomb.log.gz", b"2025-03-14T10:00:00Z INFO same line\n" * 3_000_000)
    failure = _failure(path, "log")
    assert failure.code == "archive_bomb"
    assert failure.details["inflated_bytes_at_stop"] < 200 * path.stat().st_size + (2 << 20)


def test_text_char_limit(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("word " * 1000)
    assert _failure(path, "text", LimitSettings(max_extracted_chars=100)).code == "too_large"


def test_sample_log_has_the_incident() -> None:
    path = SAMPLES / "payments-service.log"
    assert sniff(path, path.name) == ("log", "text/plain")
    result = extract(path, "log", LIMITS)
    assert 300 <= result.line_count <= 600
    assert result.line_count == len(path.read_bytes().splitlines())
    first_error = next(n for n, line in enumerate(result.text.splitlines(), 1) if " ERROR " in line)
    assert "timed out" in result.text[slice(*result.line_span(first_error, first_error))]


# ---------------------------------------------------------------- sniffing


def test_sniff_pdf_despite_txt_name(three_page_pdf: Path) -> None:
    assert sniff(three_page_pdf, "innocent.txt") == ("pdf", "application/pdf")


def test_sniff_docx(tmp_path: Path) -> None:
    path = fx.make_docx(tmp_path / "x.bin", [("p", "x")])
    assert sniff(path, "upload") == ("docx", DOCX_MEDIA)


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("picture.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
        ("server.log", bytes(range(256)) * 16, "binary"),
        ("notes.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "ELF"),
        ("data.log.gz", gzip.compress(bytes(range(256)) * 8), "does not contain text"),
        ("archive.gz.txt", gzip.compress(b"hello\n"), "named *.gz"),
    ],
)
def test_sniff_refuses_non_text(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(data)
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(path, name)
    assert info.value.code == "unsupported_media_type"
    assert fragment in info.value.message


def test_sniff_refuses_plain_zip(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "report.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "not word")
    with pytest.raises(UnsupportedMediaType, match="not a Word"):
        sniff(path, "report.docx")


def test_sniff_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(path, "empty.txt")
    assert info.value.code == "empty_file"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("readme.md", "# Title\n\nSome text.\n", ("text", "text/markdown")),
        ("table.csv", "a,b\n1,2\n", ("text", "text/csv")),
        ("data.json", '{"a": 1}\n', ("text", "application/json")),
        ("notes.txt", "Just a note.\nAnother line.\n", ("text", "text/plain")),
        ("worker.log", "no timestamps here\n", ("log", "text/plain")),
        ("output.txt", "\n".join(fx.log_lines(30)), ("log", "text/plain")),
        ("utf16.txt", "wide text\n", ("text", "text/plain")),
    ],
)
def test_sniff_text_kinds(tmp_path: Path, name: str, content: str, expected: tuple[str, str]) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content.encode("utf-16") if name.startswith("utf16") else content.encode())
    assert sniff(path, name) == expected


# ---------------------------------------------------------------- isolation


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("master_services_agreement.pdf", "pdf"),
        ("master_services_agreement.docx", "docx"),
        ("payments-service.log", "log"),
    ],
)
def test_isolated_matches_in_process(name: str, kind: str) -> None:
    path = SAMPLES / name
    here = extract(path, kind, LIMITS)  # type: ignore[arg-type]
    there = extract_isolated(path, kind, LIMITS)  # type: ignore[arg-type]
    assert there.text == here.text and there.kind == here.kind
    assert there.page_starts == here.page_starts and there.meta == here.meta


def test_isolated_keeps_carriage_returns_in_pdf_text(tmp_path: Path) -> None:
    path = fx.make_pdf(tmp_path / "p.pdf", [["one"], ["two"]])
    assert extract_isolated(path, "pdf", LIMITS).text == extract(path, "pdf", LIMITS).text


def test_isolated_reraises_child_error_with_code(tmp_path: Path) -> None:
    blank = fx.make_blank_pdf(tmp_path / "scan.pdf")
    with pytest.raises(ExtractionFailed) as info:
        extract_isolated(blank, "pdf", LIMITS)
    assert info.value.code == "no_text_layer"


def test_isolated_timeout(tmp_path: Path) -> None:
    path = fx.make_many_page_pdf(tmp_path / "long.pdf", 150)
    with pytest.raises(ExtractionFailed) as info:
        extract_isolated(path, "pdf", LimitSettings(extract_timeout_s=0.3))
    assert info.value.code == "timeout"


def test_isolated_memory_limit(tmp_path: Path) -> None:
    # 200 MB of text inflated from a small gzip, in a child allowed 256 MB of address space.
    path = fx.write_gz(tmp_path / "huge.log.gz", b"2025-03-14T10:00:00Z INFO a repeated line\n" * 5_000_000)
    limits = LimitSettings(extract_memory_mb=256, max_archive_ratio=100_000)
    with pytest.raises(ExtractionFailed) as info:
        extract_isolated(path, "log", limits)
    assert info.value.code == "resource_limit"


def test_docx_footnotes_headers_footers_and_comments_follow_the_body(tmp_path: Path) -> None:
    path = fx.make_docx_with_side_parts(
        tmp_path / "side.docx",
        body="The Supplier shall indemnify the Customer.",
        footnote="Indemnity is capped at the fees paid in the last 12 months.",
        header="ACME / Globex Master Services Agreement",
        footer="Confidential",
        comment="Check the cap against clause 9.",
    )
    result = extract(path, "docx", LIMITS)
    lines = result.text.split("\n")
    assert lines[0] == "The Supplier shall indemnify the Customer.[^1]"  # the mark where the body refers
    assert lines[1:] == [
        "## Footnotes",
        "[^1] Indemnity is capped at the fees paid in the last 12 months.",
        "## Headers and footers",
        "ACME / Globex Master Services Agreement",
        "Confidential",
        "## Comments",
        "Legal: Check the cap against clause 9.",
    ]
    assert result.meta["footnotes"] == 1 and result.meta["comments"] == 1
    assert result.meta["headers_footers"] == 2
