"""The mining pass of a streamed log member, in a second process when the member is large.

Ingest reads each member twice: `service.extract.logstore` copies the text, indexes line starts and
counts the packer's units, while this pass mines templates and writes the per-line table columns
(`MemberColumns`). The two share nothing until both end, so on a machine with more than one core a
large member's mining runs in a forked process next to the indexing and the member costs about the
longer of the two instead of their sum. The result comes back as a pickle in the scratch directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from service.logs.member import MinedMember, mine_chunks

from .logrows import MemberColumns

CHUNK = 1 << 20
PARALLEL_MIN_BYTES = 16 << 20  # below this, forking costs more than it saves
_RESULT, _ERROR = "mined.pkl", "error.txt"


def read_chunks(src: IO[bytes]) -> Iterator[bytes]:
    """The file in ~1 MB pieces, each cut after a newline; a final line without a newline comes last,
    on its own."""
    rest = b""
    while chunk := src.read(CHUNK):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        data, rest = data[:cut], data[cut:]
        yield data
    if rest:
        yield rest


def read_batches(src: IO[bytes]) -> Iterator[tuple[bytes, list[str]]]:
    """`read_chunks` with each piece's lines, without their newlines."""
    for data in read_chunks(src):
        lines = data.decode("utf-8").split("\n")
        if data.endswith(b"\n"):
            lines.pop()  # the empty piece after the final newline
        yield data, lines


def mine_member(path: Path, scratch: Path) -> MinedMember:
    """Mine one member file: columns into `scratch`, templates and totals returned."""
    columns = MemberColumns(scratch)
    with path.open("rb") as src:
        mined = mine_chunks(read_chunks(src), on_block=columns.add)
    columns.close()
    return mined


class MiningPass:
    """`mine_member` started now (forked, for a large member on a multi-core machine) or at `result`."""

    def __init__(self, path: Path, scratch: Path):
        self.path, self.scratch = path, scratch
        scratch.mkdir(parents=True, exist_ok=True)
        parallel = (os.cpu_count() or 1) > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES
        self._pid = _fork_mining(path, scratch) if parallel else 0
        self._status: int | None = None  # the forked process's wait status once reaped

    def running(self) -> bool:
        """Whether a forked pass is still mining (polls, never blocks)."""
        if not self._pid or self._status is not None:
            return False
        pid, status = os.waitpid(self._pid, os.WNOHANG)
        if pid == 0:
            return True
        self._status = status
        return False

    def abandon(self) -> None:
        """Stop a forked mining process that is still running (ingest failed elsewhere); no-op otherwise."""
        if self._pid and self._status is None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            self._status = -1

    def result(self) -> MinedMember:
        if not self._pid:
            return mine_member(self.path, self.scratch)
        if self._status is None:
            self._status = os.waitpid(self._pid, 0)[1]
        status = self._status
        error = self.scratch / _ERROR
        if status < 0 or os.waitstatus_to_exitcode(status) != 0 or error.exists():
            number, _, reason = (error.read_text(encoding="utf-8") if error.exists() else "0\n").partition(
                "\n"
            )
            last = reason.strip().splitlines()[-1] if reason.strip() else f"exit status {status}"
            if int(number):  # an OSError (a full disk, say) is raised here as what it was
                raise OSError(int(number), f"log mining process: {last}")
            raise RuntimeError(f"log mining process failed: {last}")
        with (self.scratch / _RESULT).open("rb") as fh:
            mined: MinedMember = pickle.load(fh)
        (self.scratch / _RESULT).unlink()
        return mined


def _fork_mining(path: Path, scratch: Path) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with_parent()
        mined = mine_member(path, scratch)
        with (scratch / _RESULT).open("wb") as fh:
            pickle.dump(mined, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # reported to the parent through the file, whatever it was
        number = exc.errno if isinstance(exc, OSError) and exc.errno else 0
        (scratch / _ERROR).write_text(f"{number}\n{traceback.format_exc()}", encoding="utf-8")
        code = 1
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the ingest process dies (killed on its time limit), not run on orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
