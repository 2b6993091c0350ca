"""Timestamp detection, levels and event grouping (service.logs.timestamps / levels / events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from service.logs import TimestampDetector, detect_level, iter_events

CASES = [
    ("2026-03-04T10:00:00Z started", "iso8601", datetime(2026, 3, 4, 10, 0, tzinfo=UTC)),
    (
        "2026-03-04T10:00:00.250+02:00 x",
        "iso8601",
        datetime(2026, 3, 4, 10, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
    ),
    ("2026-03-04 10:00:00,123 INFO [main] a.B: hi", "iso8601", datetime(2026, 3, 4, 10, 0, 0, 123000)),
    ("2026-03-04 10:00:00.5 - app - INFO - hi", "iso8601", datetime(2026, 3, 4, 10, 0, 0, 500000)),
    ("2026-03-04 10:00:00, Info                  CBS    Loaded", "iso8601", datetime(2026, 3, 4, 10, 0)),
    ("Mar  4 10:00:07 host sshd[12]: Accepted", "syslog", datetime(2026, 3, 4, 10, 0, 7)),
    (
        '10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326',
        "clf",
        datetime(2000, 10, 10, 13, 55, 36, tzinfo=timezone(timedelta(hours=-7))),
    ),
    ("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", "ctime", datetime(2005, 12, 4, 4, 47, 44)),
    ("03-04 10:00:00.123  1234  5678 I Tag: msg", "logcat", datetime(2026, 3, 4, 10, 0, 0, 123000)),
    ("081109 203615 148 INFO dfs.DataNode: x", "hdfs", datetime(2008, 11, 9, 20, 36, 15)),
    ("17/06/09 20:10:40 INFO executor.Executor: x", "yymmdd_slash", datetime(2017, 6, 9, 20, 10, 40)),
    (
        "- 1117838570 2005.06.03 R02-M1-N0 2005-06-03-15.42.50.675872 R02 RAS KERNEL INFO x",
        "bgl",
        datetime(2005, 6, 3, 15, 42, 50, 675872),
    ),
    ("1700000000 job done", "epoch", datetime.fromtimestamp(1700000000, UTC)),
    ("1700000000123 job done", "epoch", datetime.fromtimestamp(1700000000.123, UTC)),
    ("level=info ts=1700000000 msg=hi", "epoch", datetime.fromtimestamp(1700000000, UTC)),
    ('{"time": 1700000000, "msg": "hi"}', "epoch", datetime.fromtimestamp(1700000000, UTC)),
]


@pytest.mark.parametrize(("line", "fmt", "expected"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)])
def test_each_format_detected_and_parsed(line: str, fmt: str, expected: datetime) -> None:
    detector = TimestampDetector(reference_year=2026)
    chosen = detector.fit([line] * 3)
    assert chosen is not None and chosen.name == fmt
    ts, end = detector.parse_line(line)
    assert ts == expected
    assert 0 < end <= len(line)


def test_span_end_splits_header() -> None:
    detector = TimestampDetector(reference_year=2026)
    detector.fit(["Mar  4 10:00:07 host sshd[12]: Accepted"])
    ts, end = detector.parse_line("Mar  4 10:00:07 host sshd[12]: Accepted")
    assert ts is not None
    assert "Mar  4 10:00:07 host"[end:] == " host"


def test_fallback_only_at_line_start_and_unfitted_detector_works() -> None:
    detector = TimestampDetector(reference_year=2026)
    detector.fit(["2026-03-04 10:00:00,000 INFO a: b"] * 5)
    assert detector.parse_line("Mar  4 10:00:07 other format")[0] == datetime(2026, 3, 4, 10, 0, 7)
    assert detector.parse_line("\tat Foo.bar(Foo.java:12) since Mar  4 10:00:07") == (None, 0)
    assert TimestampDetector(2026).parse_line("081109 203615 x")[0] == datetime(2008, 11, 9, 20, 36, 15)


def test_invalid_dates_are_not_timestamps() -> None:
    assert TimestampDetector(2026).parse_line("2026-13-45 10:00:00 nope") == (None, 0)


@pytest.mark.parametrize(
    ("header", "level"),
    [
        (" INFO [main] x", "INFO"),
        (" [error] boom", "ERROR"),
        (", Warning   CBS", "WARN"),
        ("  1702  2395 E Tag: x", "ERROR"),
        ("  1702  2395 V Tag: x", "TRACE"),
        (" - app - CRITICAL - x", "FATAL"),
        (" R02 RAS KERNEL SEVERE x", "ERROR"),
        (" <notice> x", "NOTICE"),
        (" host sshd[1]: session opened for user info", None),
    ],
)
def test_levels(header: str, level: str | None) -> None:
    assert detect_level(header) == level


def test_continuation_lines_join_the_event_above() -> None:
    lines = [
        "leading junk",
        "2026-03-04 10:00:00,000 ERROR [main] a.B: failed",
        "java.lang.IllegalStateException: boom",
        "\tat a.B.run(B.java:10)",
        "2026-03-04 10:00:01,000 INFO [main] a.B: recovered",
    ]
    events = list(iter_events(lines, reference_year=2026))
    assert [(e.first_line, e.last_line) for e in events] == [(1, 1), (2, 4), (5, 5)]
    assert events[0].timestamp is None
    assert events[1].level == "ERROR" and events[1].text.count("\n") == 2
    assert events[1].first_text.endswith("failed")
    assert events[2].timestamp == datetime(2026, 3, 4, 10, 0, 1)


def test_file_without_timestamps_gives_one_event_per_line() -> None:
    events = list(iter_events(["a", "ERROR: b", "c"]))
    assert len(events) == 3 and events[1].level == "ERROR"


def test_extra_formats_healthapp_and_proxifier() -> None:
    detector = TimestampDetector(reference_year=2026)
    assert detector.parse_line("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579")[
        0
    ] == datetime(2017, 12, 23, 22, 15, 29, 606000)
    assert detector.parse_line("[10.30 16:49:06] chrome.exe - proxy:5070 open")[0] == datetime(
        2026, 10, 30, 16, 49, 6
    )


def test_epoch_seconds_as_a_header_field() -> None:
    lines = [
        f"{4000 + i} rack-{i} disk.io fault {1700000000 + 60 * i} 1 sector {i} unreadable" for i in range(20)
    ]
    detector = TimestampDetector(reference_year=2026)
    chosen = detector.fit(lines)
    assert chosen is not None and chosen.name == "epoch_field"
    ts, end = detector.parse_line(lines[3])
    assert ts == datetime.fromtimestamp(1700000180, UTC)
    assert lines[3][end:] == " 1 sector 3 unreadable"
    # A bare number field in a minority of lines is not a clock, and a file with its own stamps
    # never reads one on a line its stamp is missing from.
    some = [f"order {1700000000 + i} shipped" if i % 3 == 0 else f"order {i} queued" for i in range(30)]
    assert TimestampDetector(2026).fit(some) is None
    iso = TimestampDetector(2026)
    iso.fit(["2026-03-04 10:00:00,000 INFO a: b"] * 5)
    assert iso.parse_line("cart 7 total 1700000000 paid") == (None, 0)
