"""Regenerate the sample documents in this folder: `python sample_docs/make_samples.py`.

- master_services_agreement.pdf / .docx: the same fictional contract (reportlab / python-docx)
- payments-service.log: one day of a payments service with a gateway-timeout incident (seeded, stable)
- release_notes.txt: a short plain-text document

Needs the test extra (reportlab) and python-docx.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from contract_text import (  # noqa: E402  (sibling module, importable once HERE is on the path)
    FEE_TABLE,
    FEE_TABLE_CAPTION,
    PREAMBLE,
    SECTIONS,
    SIGNATURES,
    TITLE,
)

LOG_DAY = datetime(2025, 3, 14)
INCIDENT_START = LOG_DAY.replace(hour=14, minute=12, second=7)
INCIDENT_END = LOG_DAY.replace(hour=14, minute=41, second=30)


# ---------------------------------------------------------------- contract


def make_pdf(path: Path) -> None:
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    rl_config.invariant = 1  # no timestamps or random ids: the file is reproducible byte for byte
    styles = getSampleStyleSheet()
    body, heading = styles["BodyText"], styles["Heading2"]
    story: list[object] = [Paragraph(TITLE, styles["Title"])]
    story += [Paragraph(_xml(text), body) for text in PREAMBLE]
    for number, title, paragraphs in SECTIONS:
        story.append(Paragraph(f"{number}. {title}", heading))
        story += [Paragraph(_xml(text), body) for text in paragraphs]
    story += [PageBreak(), Paragraph(FEE_TABLE_CAPTION, heading), Spacer(1, 0.3 * cm)]
    table = Table(FEE_TABLE, colWidths=[5.5 * cm, 4.5 * cm, 6 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    story += [table, Spacer(1, 1 * cm)]
    story += [Paragraph(_xml(text), body) for text in SIGNATURES]
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, title="Master Services Agreement", author="Northwind Analytics Ltd."
    )
    doc.build(story)


def make_docx(path: Path) -> None:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.core_properties.title = "Master Services Agreement"
    document.core_properties.author = "Northwind Analytics Ltd."
    document.add_heading(TITLE, level=0)
    for text in PREAMBLE:
        document.add_paragraph(text)
    for number, title, paragraphs in SECTIONS:
        if number == "8":  # a manual page break mid-document, as authors do
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        document.add_heading(f"{number}. {title}", level=1)
        for text in paragraphs:
            document.add_paragraph(text)
    document.add_page_break()
    document.add_heading(FEE_TABLE_CAPTION, level=2)
    table = document.add_table(rows=0, cols=len(FEE_TABLE[0]))
    table.style = "Table Grid"
    for row in FEE_TABLE:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    for text in SIGNATURES:
        document.add_paragraph(text)
    document.save(str(path))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- log


def make_log(path: Path, seed: int = 20250314) -> int:
    rng = random.Random(seed)
    events: list[tuple[datetime, str]] = []
    events += _routine(rng)
    events += _incident(rng)
    events.sort(key=lambda event: event[0])
    lines = [f"{_ts(at)} {text}" for at, text in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sum(text.count("\n") + 1 for _, text in events)


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _routine(rng: random.Random) -> list[tuple[datetime, str]]:
    events: list[tuple[datetime, str]] = [
        (
            LOG_DAY.replace(hour=0, minute=0, second=2),
            "INFO  [payments-service] main - Service started, version=2.13.2",
        ),
        (
            LOG_DAY.replace(hour=2, minute=0, second=0),
            "INFO  [ledger-worker] settlement - Nightly settlement batch started",
        ),
        (
            LOG_DAY.replace(hour=2, minute=7, second=41),
            "INFO  [ledger-worker] settlement - Nightly settlement batch finished: 18,204 transactions, 0 mismatches",
        ),
    ]
    at = LOG_DAY + timedelta(minutes=3)
    end = LOG_DAY + timedelta(hours=23, minutes=58)
    while at < end:
        at += timedelta(seconds=rng.randint(200, 420), milliseconds=rng.randint(0, 999))
        if INCIDENT_START - timedelta(minutes=20) <= at <= INCIDENT_END + timedelta(minutes=30):
            continue
        events.append((at, _routine_line(rng)))
    return events


def _routine_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        count, p99 = rng.randint(180, 900), rng.randint(140, 420)
        return f"INFO  [payments-service] http - 5m summary: requests={count} errors=0 p99_ms={p99}"
    if roll < 0.7:
        used = rng.randint(4, 11)
        return f"INFO  [payments-service] db-pool - Connection pool usage {used}/50, waiting=0"
    if roll < 0.85:
        return f"INFO  [api-gateway] health - Upstream payments-service healthy (latency_ms={rng.randint(3, 19)})"
    if roll < 0.95:
        return f"INFO  [ledger-worker] consumer - Committed offset {rng.randint(10**6, 9 * 10**6)} on topic payments.captured"
    return f"WARN  [payments-service] db - Slow query took {rng.randint(1100, 2400)} ms: SELECT ... FROM payment_intents WHERE status = 'pending'"


def _incident(rng: random.Random) -> list[tuple[datetime, str]]:
    t = INCIDENT_START
    ev: list[tuple[datetime, str]] = [
        (
            t - timedelta(minutes=17, seconds=12),
            "INFO  [deploy] rollout - Deploying payments-service version=2.14.0 (change CHG-4471: new gateway client, pool max_size 50 -> 20)",
        ),
        (
            t - timedelta(minutes=16, seconds=3),
            "INFO  [payments-service] main - Service started, version=2.14.0",
        ),
        (
            t - timedelta(minutes=15, seconds=58),
            "INFO  [payments-service] db-pool - Connection pool configured: max_size=20, acquire_timeout_ms=2000",
        ),
        (
            t - timedelta(minutes=9, seconds=30),
            "WARN  [payments-service] db-pool - Connection pool usage 16/20 (80%), waiting=3",
        ),
        (
            t - timedelta(minutes=6, seconds=2),
            "WARN  [payments-service] db-pool - Connection pool nearing exhaustion: usage 19/20 (95%), waiting=11",
        ),
        (
            t - timedelta(minutes=4, seconds=45),
            "WARN  [payments-service] gateway-client - AcmePay authorization latency p99=4210 ms (threshold 2500 ms)",
        ),
        (
            t - timedelta(minutes=1, seconds=20),
            "WARN  [payments-service] db-pool - Connection pool exhausted: usage 20/20, waiting=37, acquire waits up to 1980 ms",
        ),
    ]
    at = t
    order = 880_100
    while at < INCIDENT_END - timedelta(minutes=3):
        order += rng.randint(3, 40)
        ev.append((at, _timeout_error(order, rng)))
        if rng.random() < 0.3:
            ev.append(
                (
                    at + timedelta(milliseconds=rng.randint(5, 60)),
                    f"WARN  [payments-service] retry - Retrying authorization order_id=ord_{order} attempt=2/3 backoff_ms={rng.choice([200, 400, 800])}",
                )
            )
        at += timedelta(seconds=rng.randint(12, 55), milliseconds=rng.randint(0, 999))
    ev += [
        (
            t + timedelta(seconds=48),
            "ERROR [payments-service] circuit-breaker - Circuit OPEN for upstream acmepay after 2 consecutive timeouts (threshold 2)",
        ),
        (
            t + timedelta(minutes=2, seconds=10),
            "WARN  [api-gateway] health - Upstream payments-service degraded: 38% of requests failing with 504",
        ),
        (
            t + timedelta(minutes=5, seconds=1),
            "ERROR [ledger-worker] consumer - Capture backlog growing: 1,412 payments awaiting authorization",
        ),
        (
            t + timedelta(minutes=11, seconds=27),
            "INFO  [oncall] pager - Incident INC-2291 opened: payment authorization timeouts (sev2)",
        ),
        (
            INCIDENT_END - timedelta(minutes=3, seconds=30),
            "INFO  [deploy] rollout - Rolling back payments-service to version=2.13.2 (INC-2291)",
        ),
        (
            INCIDENT_END - timedelta(minutes=2, seconds=40),
            "INFO  [payments-service] main - Service started, version=2.13.2",
        ),
        (
            INCIDENT_END - timedelta(minutes=2, seconds=38),
            "INFO  [payments-service] db-pool - Connection pool configured: max_size=50, acquire_timeout_ms=5000",
        ),
        (INCIDENT_END, "INFO  [payments-service] db-pool - Connection pool usage 14/50, waiting=0"),
        (
            INCIDENT_END + timedelta(minutes=3, seconds=15),
            "INFO  [payments-service] circuit-breaker - Circuit CLOSED for upstream acmepay after 20 consecutive successes",
        ),
        (
            INCIDENT_END + timedelta(minutes=9),
            "INFO  [ledger-worker] consumer - Capture backlog draining: 611 payments remaining",
        ),
        (
            INCIDENT_END + timedelta(minutes=24, seconds=40),
            "INFO  [ledger-worker] consumer - Capture backlog cleared; all payments authorized or failed over",
        ),
        (
            INCIDENT_END + timedelta(minutes=26),
            "INFO  [oncall] pager - Incident INC-2291 resolved: root cause pool max_size reduced to 20 in 2.14.0",
        ),
    ]
    return ev


def _timeout_error(order: int, rng: random.Random) -> str:
    waited = rng.randint(5000, 5200)
    lines = [
        f"ERROR [payments-service] gateway-client - Payment authorization timed out after {waited} ms "
        f"(order_id=ord_{order}, acquirer=acmepay, amount_eur={rng.randint(9, 480)}.{rng.randint(0, 99):02d})",
        "Traceback (most recent call last):",
        '  File "/app/payments/gateway/client.py", line 214, in authorize',
        "    response = self._session.post(self._url, json=payload, timeout=self._timeout)",
        '  File "/app/payments/gateway/pool.py", line 88, in acquire',
        '    raise PoolTimeout(f"no connection within {self.acquire_timeout_ms} ms")',
        "payments.gateway.errors.PaymentGatewayTimeout: acquirer acmepay did not answer within 5000 ms",
    ]
    # Not every occurrence logs its stack trace (the client rate-limits traces), as in real services.
    return "\n".join(lines if rng.random() < 0.5 else lines[:1])


# ---------------------------------------------------------------- text

RELEASE_NOTES = """Northwind Forecast - Release Notes 4.2
=======================================

Released: 10 February 2025

New
- Store-level forecasts now include a 90-day horizon (previously 60 days).
- CSV export of forecast accuracy by product category.
- Single sign-on with Microsoft Entra ID for customer administrators.

Changed
- The default retraining schedule moved from weekly to daily for stores with more than 5,000 SKUs.
- API rate limit raised from 600 to 1,200 requests per minute per tenant.

Fixed
- Holiday calendars for Austria no longer omit the Feast of the Immaculate Conception (8 December).
- Forecast charts no longer shift by one day for stores in the Europe/Zurich time zone.

Deprecated
- The v1 forecast API will be removed on 30 September 2025. Migrate to v2 before that date.
"""


def main() -> None:
    make_pdf(HERE / "master_services_agreement.pdf")
    make_docx(HERE / "master_services_agreement.docx")
    lines = make_log(HERE / "payments-service.log")
    (HERE / "release_notes.txt").write_text(RELEASE_NOTES, encoding="utf-8")
    print(f"wrote samples to {HERE} (log: {lines} lines)")


if __name__ == "__main__":
    main()
