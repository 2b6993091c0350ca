"""Child-process side of `extract_isolated`: `python -m service.extract.child WORKDIR`.

Reads WORKDIR/request.json, limits its own address space and CPU time, extracts, and writes either
text.txt + result.json (written last, so its presence means success) or error.json.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import traceback
from pathlib import Path
from typing import Any

from service.config import LimitSettings
from service.errors import LongdocError
from service.extract.isolate import ERROR, LOGSUMMARY, REQUEST, RESULT, TEXT
from service.extract.logstore import ingest_log
from service.extract.registry import extract

# CPU seconds allowed beyond the wall-clock limit before the kernel stops the child on its own.
CPU_GRACE_S = 5


def main(argv: list[str]) -> int:
    work = Path(argv[1])
    request = json.loads((work / REQUEST).read_text(encoding="utf-8"))
    limits = LimitSettings.model_validate(request["limits"])
    limit_resources(limits)
    if request.get("mode") == "store":
        return _store(work, request, limits)
    try:
        extracted = extract(Path(request["path"]), request["kind"], limits)
    except LongdocError as exc:
        _write_json(work / ERROR, {"type": type(exc).__name__, **exc.to_dict()})
        return 0
    except Exception as exc:
        traceback.print_exc()
        message = f"Extraction crashed: {type(exc).__name__}"
        _write_json(work / ERROR, {"type": "ExtractionFailed", "code": "crashed", "message": message})
        return 1
    with (work / TEXT).open("w", encoding="utf-8", errors="surrogatepass", newline="") as fh:
        fh.write(extracted.text)
    if extracted.log_summary is not None:
        _write_json(work / LOGSUMMARY, extracted.log_summary)
    result = {"kind": extracted.kind, "page_starts": extracted.page_starts, "meta": extracted.meta}
    _write_json(work / RESULT, result)
    return 0


def _store(work: Path, request: dict[str, Any], limits: LimitSettings) -> int:
    """Logs and archives streamed into store files in `work` (service.extract.logstore)."""
    try:
        result = ingest_log(Path(request["path"]), limits, work)
    except LongdocError as exc:
        _write_json(work / ERROR, {"type": type(exc).__name__, **exc.to_dict()})
        return 0
    except MemoryError:
        _write_json(
            work / ERROR,
            {
                "type": "ExtractionFailed",
                "code": "resource_limit",
                "message": "Extraction ran out of memory.",
            },
        )
        return 0
    except Exception as exc:
        traceback.print_exc()
        message = f"Extraction crashed: {type(exc).__name__}"
        _write_json(work / ERROR, {"type": "ExtractionFailed", "code": "crashed", "message": message})
        return 1
    _write_json(work / RESULT, result)
    return 0


def limit_resources(limits: LimitSettings) -> None:
    """Cap address space and CPU time; never raise a hard limit the parent already lowered."""
    _cap(resource.RLIMIT_AS, limits.extract_memory_mb * 1024 * 1024)
    _cap(resource.RLIMIT_CPU, math.ceil(limits.extract_timeout_s) + CPU_GRACE_S)


def _cap(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _write_json(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, default=str), encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
