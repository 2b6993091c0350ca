"""Streaming multipart intake: the body goes chunk by chunk into a BlobWriter, never whole into memory.

FastAPI's `UploadFile` would spool the entire body to a temporary file before the route runs (no size
limit applies there), so the upload route reads `request.stream()` and parses it with python-multipart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from service.blobs import BlobStore, BlobWriter
from service.errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
_MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class _PartState:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    writer: BlobWriter | None = None
    filename: str | None = None
    done_writer: BlobWriter | None = None
    done_filename: str | None = None
    error: Exception | None = None
    in_file: bool = False


async def receive_file(request: Request, blobs: BlobStore, max_bytes: int) -> tuple[str, BlobWriter]:
    """Parse the multipart body; returns the file part's name and its finished-but-uncommitted writer."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest(
            "upload as multipart/form-data with the file in a field named 'file'", code="multipart_required"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + _MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"upload of {int(declared):,} bytes exceeds the limit of {max_bytes:,}",
            details={"limit_bytes": max_bytes},
        )
    state = _PartState()
    parser = MultipartParser(params[b"boundary"], _callbacks(state, blobs, max_bytes))
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if state.error:
                raise state.error
        parser.finalize()
    except ClientDisconnect:
        _abort(state)
        raise BadRequest("the client disconnected during the upload", code="upload_incomplete") from None
    except MultipartParseError as exc:  # e.g. a raw CR/LF inside a part header: the client's fault, not a 500
        _abort(state)
        raise BadRequest(f"malformed multipart body: {exc}", code="bad_multipart") from None
    except Exception:
        _abort(state)
        raise
    if state.done_writer is None:
        _abort(state)
        raise BadRequest("no file part named 'file' in the upload", code="file_required")
    return state.done_filename or "upload", state.done_writer


def _abort(state: _PartState) -> None:
    for writer in (state.writer, state.done_writer):
        if writer is not None:
            writer.abort()


def _callbacks(state: _PartState, blobs: BlobStore, max_bytes: int) -> MultipartCallbacks:
    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_field.lower()] = state.header_value
        state.header_field, state.header_value = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state.headers.get(b"content-disposition", b""))
        is_file = disp.get(b"name") == FILE_FIELD.encode() and state.done_writer is None
        state.in_file = is_file
        if is_file:
            state.filename = disp.get(b"filename", b"upload").decode("utf-8", "replace")
            state.writer = blobs.writer(max_bytes)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.in_file and state.writer is not None and state.error is None:
            try:
                state.writer.write(data[start:end])
            except Exception as exc:  # raised out of the parser after this chunk
                state.error = exc
                state.writer = None

    def on_part_end() -> None:
        if state.in_file and state.writer is not None:
            state.done_writer, state.done_filename = state.writer, state.filename
        state.writer, state.in_file, state.headers = None, False, {}

    return {
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
