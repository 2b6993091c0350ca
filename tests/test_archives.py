"""Log archives as one document: every container type, anchors, and the bad archives of issue 4."""

from __future__ import annotations

import bz2
import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from service.config import LimitSettings
from service.errors import ExtractionFailed, UnsupportedMediaType
from service.extract import extract, extract_isolated, sniff

A = b"2025-03-14T10:00:00Z INFO api started\n2025-03-14T10:00:01Z ERROR db timeout after 30s\n"
B = b"Mar 14 10:00:02 host sshd[42]: Accepted password for root\n"
C = "2025-03-14 10:00:03,120 WARNING caf\xe9 cr\xe8me low\n".encode("latin-1")
EXPECTED_TEXT = A.decode() + C.decode("latin-1") + B.decode()  # path order: a.log, c.log, sub/b.log


def _members() -> list[tuple[str, bytes]]:
    # deliberately not in path order, and one member gzip-compressed inside the archive (depth 1)
    return [("sub/b.log", B), ("a.log", A), ("c.log.gz", gzip.compress(C))]


def _tar_bytes(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BUILDERS = {
    "logs.zip": lambda m: _zip_bytes(m),
    "logs.tar": lambda m: _tar_bytes(m),
    "logs.tar.gz": lambda m: _tar_bytes(m, "w:gz"),
    "logs.tgz": lambda m: _tar_bytes(m, "w:gz"),
    "logs.tar.bz2": lambda m: _tar_bytes(m, "w:bz2"),
    "logs.tar.zst": lambda m: zstandard.ZstdCompressor().compress(_tar_bytes(m)),
}


def _fail(path: Path, limits: LimitSettings | None = None) -> ExtractionFailed:
    with pytest.raises(ExtractionFailed) as info:
        extract(path, "log", limits or LimitSettings())
    return info.value


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_archive_is_one_document_in_path_order_with_file_anchors(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, BUILDERS[name](_members()))
    assert sniff(path, name)[0] == "log"
    ex = extract(path, "log", LimitSettings())
    assert ex.text == EXPECTED_TEXT
    files = ex.meta["files"]
    assert [f["path"] for f in files] == ["a.log", "c.log.gz", "sub/b.log"]
    assert [(f["line_start"], f["lines"]) for f in files] == [(1, 2), (3, 1), (4, 1)]
    for f in files:  # char_start really is where the member's text begins
        assert ex.text[f["char_start"] :].startswith(ex.text.split("\n")[f["line_start"] - 1])
    assert files[1]["encoding"] != "utf-8"  # the latin-1 member was detected on its own
    assert "café crème" in ex.text


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("app.log.bz2", bz2.compress(A)),
        ("app.log.zst", zstandard.ZstdCompressor().compress(A)),
        ("app.log.gz", gzip.compress(A)),
    ],
)
def test_single_compressed_logs(tmp_path: Path, name: str, data: bytes) -> None:
    path = _write(tmp_path, name, data)
    assert sniff(path, name)[0] == "log"
    ex = extract(path, "log", LimitSettings())
    assert ex.text == A.decode()
    assert ex.meta["compressed"] is True and "files" not in ex.meta


def test_isolated_extraction_of_archive(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.tar.gz", BUILDERS["logs.tar.gz"](_members()))
    ex = extract_isolated(path, "log", LimitSettings())
    assert ex.text == EXPECTED_TEXT and len(ex.meta["files"]) == 3


def test_binary_and_nested_members_are_skipped_with_reasons(tmp_path: Path) -> None:
    members = [
        ("a.log", A),
        ("core.dump", bytes(range(256)) * 64),
        ("inner.zip", _zip_bytes([("x.log", A)])),
        ("inner.tar.gz", _tar_bytes([("x.log", A)], "w:gz")),
    ]
    ex = extract(_write(tmp_path, "x.zip", _zip_bytes(members)), "log", LimitSettings())
    assert ex.text == A.decode()
    reasons = {s["path"]: s["reason"] for s in ex.meta["skipped"]}
    assert reasons == {"core.dump": "binary", "inner.zip": "nested_archive", "inner.tar.gz": "nested_archive"}


def test_depth_zero_skips_compressed_members(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.tar", _tar_bytes(_members()))
    ex = extract(path, "log", LimitSettings(max_archive_depth=0))
    assert {"path": "c.log.gz", "reason": "too_deep"} in ex.meta["skipped"]


def test_archive_of_only_binary_files_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.zip", _zip_bytes([("a.bin", bytes(range(256)) * 64)]))
    assert _fail(path).code == "no_text"


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "logs/../../x.log", "C:/x.log"])
@pytest.mark.parametrize("container", ["zip", "tar"])
def test_traversal_and_absolute_names_are_refused(tmp_path: Path, name: str, container: str) -> None:
    members = [("ok.log", A), (name, B)]
    data = _zip_bytes(members) if container == "zip" else _tar_bytes(members, "w:gz")
    failure = _fail(_write(tmp_path, f"x.{container}", data))
    assert failure.code == "unsafe_archive"
    assert failure.details["member"] == name
    assert not list(tmp_path.rglob("*.log"))  # nothing was written anywhere


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE])
def test_tar_links_and_devices_are_refused(tmp_path: Path, kind: bytes) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("a.log")
        info.size = len(A)
        tf.addfile(info, io.BytesIO(A))
        link = tarfile.TarInfo("current.log")
        link.type, link.linkname = kind, "/etc/shadow"
        tf.addfile(link)
    assert _fail(_write(tmp_path, "x.tar", buf.getvalue())).code == "unsafe_archive"


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("current.log")
        info.create_system = 3
        info.external_attr = (0o120777 << 16) & 0xFFFF0000
        zf.writestr(info, "/etc/shadow")
    assert _fail(_write(tmp_path, "x.zip", buf.getvalue())).code == "unsafe_archive"


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "bomb.zip", _zip_bytes([("a.log", b"2025-03-14T10:00:00Z INFO same\n" * 2_000_000)])
    )
    failure = _fail(path)
    assert failure.code == "archive_bomb"


def test_tar_gz_bomb_stops_while_streaming(tmp_path: Path) -> None:
    data = _tar_bytes([("a.log", b"2025-03-14T10:00:00Z INFO same\n" * 2_000_000)], "w:gz")
    assert _fail(_write(tmp_path, "bomb.tar.gz", data)).code == "archive_bomb"


def test_nested_gzip_bomb_inside_plain_tar(tmp_path: Path) -> None:
    inner = gzip.compress(b"2025-03-14T10:00:00Z INFO same\n" * 2_000_000)
    assert _fail(_write(tmp_path, "x.tar", _tar_bytes([("a.log.gz", inner)]))).code == "archive_bomb"


def test_member_count_and_member_size_caps(tmp_path: Path) -> None:
    many = _zip_bytes([(f"f{i}.log", A) for i in range(30)])
    assert _fail(_write(tmp_path, "many.zip", many), LimitSettings(max_archive_members=20)).code == (
        "too_many_members"
    )
    big = _write(tmp_path, "big.tar", _tar_bytes([("a.log", A * 100)]))
    assert _fail(big, LimitSettings(max_archive_member_bytes=1000)).code == "archive_bomb"


@pytest.mark.parametrize("name", ["logs.tar.gz", "logs.zip", "logs.tar.zst"])
def test_truncated_archives(tmp_path: Path, name: str) -> None:
    lines = b"".join(b"2025-03-14T10:00:%02dZ INFO request %d served\n" % (i % 60, i) for i in range(50_000))
    data = BUILDERS[name]([("a.log", lines), ("b.log", lines)])
    path = _write(tmp_path, name, data[: len(data) // 2])
    assert _fail(path).code in {"truncated_archive", "malformed"}
    if name != "logs.zip":  # a cut zip has lost its central directory: it is just damaged
        assert _fail(path).code == "truncated_archive"


def test_binary_garbage_named_log_is_refused_at_upload(tmp_path: Path) -> None:
    path = _write(tmp_path, "server.log", bytes(range(256)) * 64)
    with pytest.raises(UnsupportedMediaType):
        sniff(path, "server.log")


def test_zip_not_named_zip_is_still_not_a_docx(tmp_path: Path) -> None:
    path = _write(tmp_path, "report.docx", _zip_bytes([("a.log", A)]))
    with pytest.raises(UnsupportedMediaType, match="not a Word"):
        sniff(path, "report.docx")
