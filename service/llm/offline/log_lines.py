"""A log document as the offline engine reads it: the packer's per-line table, which lines the model saw,
and what service.logs reads on one line (the timestamp as written, the level).

No timestamp or level patterns of its own: everything is read with service.logs, so the engine counts
exactly what the packer's view and the /templates endpoint count.
"""

from __future__ import annotations

import math
import re

from service.logs import TimestampDetector, detect_level
from service.logs.timestamps import FORMATS, SEARCH_WINDOW
from service.logtable import LogTable, build_table, epoch
from service.models import CorpusDocument

_YEAR_GROUPS = frozenset({"Y", "y", "epoch"})  # a format with none of these groups carries no year
LOG_SHARE = 0.6  # share of sampled lines that must carry a timestamp for a text file to be read as a log


def log_table(doc: CorpusDocument) -> LogTable:
    """The document's per-line table: the packer's (cached on `doc`), else the one stored at extraction,
    else mined now from the text (as service.logview does)."""
    if doc.table is None:
        loader = doc.extracted.table_loader
        doc.table = loader() if loader is not None else build_table(doc.extracted)
    table: LogTable = doc.table
    return table


def looks_like_log(doc: CorpusDocument, sample: int = 100) -> bool:
    """True when most of the first non-blank lines carry a timestamp service.logs recognises."""
    lines = [line for line in doc.extracted.text[:20000].splitlines() if line.strip()][:sample]
    if len(lines) < 5:
        return False
    detector = TimestampDetector(sample_size=sample)
    detector.fit(lines)
    return sum(1 for line in lines if detector.match(line)) >= LOG_SHARE * len(lines)


class LogLines:
    """Line access for one log document: text, visibility and the timestamp/level service.logs reads."""

    def __init__(self, doc: CorpusDocument) -> None:
        self.doc = doc
        self.keep = doc.keep
        self.view = doc.view_lines
        self._detector = TimestampDetector()

    def text(self, line: int) -> str:
        """The 1-based whole-text line, without its newline."""
        start, end = self.doc.extracted.line_span(line, line)
        return self.doc.extracted.text[start:end].rstrip("\r")

    def in_scope(self, line: int) -> bool:
        """True when the job's filter (options.time_range/levels) kept this 1-based line."""
        return self.keep is None or (line <= len(self.keep) and bool(self.keep[line - 1]))

    def shown(self, line: int) -> bool:
        """True when the model saw this 1-based line verbatim: inside the job's filter and, when the
        packer used a compressed view, one of the view's verbatim lines."""
        return self.in_scope(line) and (self.view is None or line in self.view)

    def stamp(self, line: int, ts: float) -> re.Match[str] | None:
        """The timestamp on `line` that the table's time `ts` was read from, in any service.logs format
        (a stamp without a year, as syslog's, may have been read with another reference year)."""
        if math.isnan(ts):
            return None
        text = self.text(line)
        for fmt in FORMATS:
            found = fmt.regex.search(text, 0, SEARCH_WINDOW)
            when = self._detector.convert(found) if found is not None else None
            if when is None:
                continue
            gap = abs(epoch(when) - ts)
            if gap < 1e-3 or (_YEAR_GROUPS.isdisjoint(fmt.regex.groupindex) and gap % 86400 < 1e-3):
                return found
        return None

    def written_time(self, line: int, ts: float) -> str | None:
        """The timestamp as written on `line` (brackets of access-log stamps dropped), or None."""
        found = self.stamp(line, ts)
        return found.group(0).strip("[]") if found is not None else None

    def level(self, line: int, ts: float) -> str | None:
        """The normalised level service.logs reads in the header of `line` (after its timestamp)."""
        text = self.text(line)
        found = self.stamp(line, ts)
        return detect_level(text[found.end() :] if found is not None else text)
