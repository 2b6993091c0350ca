"""Run one extraction in a child process with an address-space limit and a wall-clock kill.

Parsers of untrusted PDFs and archives can loop forever or balloon memory (pypdf's own advisories), so
the work happens in `python -m service.extract.child`, started with subprocess rather than
multiprocessing: that also works inside a daemonic Celery prefork child, which may not fork children of
its own through multiprocessing. Text comes back through files in a private temp directory, never
through a pipe. The child gets the parent's environment minus anything that looks like a secret.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import service
from service import errors
from service.config import LimitSettings
from service.errors import ExtractionFailed, LongdocError
from service.models import DocumentKind, ExtractedText

log = logging.getLogger(__name__)

CHILD_MODULE = "service.extract.child"
REQUEST, RESULT, ERROR, TEXT, STDERR = "request.json", "result.json", "error.json", "text.txt", "stderr.log"
LOGSUMMARY = "logsummary.json"
_SECRET_ENV = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|^LONGDOC_", re.IGNORECASE)
_ERROR_TYPES: dict[str, type[LongdocError]] = {
    name: cls for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, LongdocError)
}


def extract_isolated(path: Path, kind: DocumentKind, limits: LimitSettings) -> ExtractedText:
    """Like `extract`, but in a child process limited to `extract_memory_mb` and `extract_timeout_s`."""
    with tempfile.TemporaryDirectory(prefix="longdoc-extract-") as tmp:
        work = Path(tmp)
        request = {"path": str(path.resolve()), "kind": kind, "limits": limits.model_dump(mode="json")}
        (work / REQUEST).write_text(json.dumps(request), encoding="utf-8")
        returncode = _run_child(work, limits.extract_timeout_s)
        return _collect(work, returncode)


def ingest_isolated(path: Path, limits: LimitSettings, work: Path) -> dict[str, Any]:
    """A log or log archive streamed by the child into store files under `work` (see `logstore`).

    `work` should be on the store's filesystem so the caller can rename the files into place. Returns
    the child's small result: kind, meta, lines, chars, tokens, token_method.
    """
    work.mkdir(parents=True, exist_ok=True)
    request = {
        "path": str(path.resolve()),
        "kind": "log",
        "mode": "store",
        "limits": limits.model_dump(mode="json"),
    }
    (work / REQUEST).write_text(json.dumps(request), encoding="utf-8")
    returncode = _run_child(work, limits.extract_timeout_s)
    if (work / ERROR).exists() or returncode != 0 or not (work / RESULT).exists():
        _collect(work, returncode)  # raises the child's error
    result: dict[str, Any] = json.loads((work / RESULT).read_text(encoding="utf-8"))
    return result


def _run_child(work: Path, timeout_s: float) -> int:
    with (work / STDERR).open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", CHILD_MODULE, str(work)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=work,
            env=_child_env(),
            close_fds=True,
        )
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ExtractionFailed(
                f"Extraction did not finish within {timeout_s:g} s.",
                code="timeout",
                details={"extract_timeout_s": timeout_s},
            ) from None
        finally:
            # Also runs when the caller is interrupted (e.g. a Celery soft time limit): never leak the child.
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _child_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not _SECRET_ENV.search(name)}
    root = str(Path(service.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def _collect(work: Path, returncode: int) -> ExtractedText:
    if (work / ERROR).exists():
        raise _rebuild_error(json.loads((work / ERROR).read_text(encoding="utf-8")))
    if returncode == 0 and (work / RESULT).exists():
        result = json.loads((work / RESULT).read_text(encoding="utf-8"))
        with (work / TEXT).open(encoding="utf-8", errors="surrogatepass", newline="") as fh:
            text = fh.read()
        summary = work / LOGSUMMARY
        return ExtractedText(
            text=text,
            kind=result["kind"],
            page_starts=result["page_starts"],
            meta=result["meta"],
            log_summary=json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else None,
        )
    tail = (work / STDERR).read_bytes()[-2000:].decode("utf-8", errors="replace")
    log.warning("extraction child exited with %s; stderr tail:\n%s", returncode, tail)
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        raise ExtractionFailed(
            f"The extraction process was killed ({name}), most likely by its memory or CPU limit.",
            code="resource_limit",
            details={"signal": name},
        )
    raise ExtractionFailed(f"The extraction process failed (exit status {returncode}).", code="crashed")


def _rebuild_error(body: dict[str, Any]) -> LongdocError:
    cls = _ERROR_TYPES.get(body.get("type", ""), ExtractionFailed)
    return cls(body["message"], code=body["code"], details=body.get("details") or None)
