"""The Redis layout of reports.

<p>:report:<id>                 Report JSON (content added once built), expires with job results
<p>:reports:<tenant>            zset  report id -> creation time (the tenant's list)
<p>:reports:series:<series>     zset  report id -> creation time (what "previous report" means)
<p>:report:byjob:<job_id>       the report a job belongs to (webhook events name it)
"""

from __future__ import annotations

from service.errors import NotFound
from service.records import Records
from service.reports.models import Report

MAX_SERIES = 500


class ReportStore:
    def __init__(self, records: Records):
        self.r = records.r
        self.p = records.p
        self.ttl = records.ttl

    def _key(self, report_id: str) -> str:
        return f"{self.p}:report:{report_id}"

    def _index(self, tenant: str) -> str:
        return f"{self.p}:reports:{tenant}"

    def _series(self, series: str) -> str:
        return f"{self.p}:reports:series:{series}"

    def _byjob(self, job_id: str) -> str:
        return f"{self.p}:report:byjob:{job_id}"

    def create(self, report: Report) -> None:
        score = report.created_at.timestamp()
        pipe = self.r.pipeline()
        pipe.set(self._key(report.id), report.model_dump_json(), ex=self.ttl)
        pipe.zadd(self._index(report.tenant), {report.id: score})
        pipe.zadd(self._series(report.series), {report.id: score})
        pipe.zremrangebyrank(self._series(report.series), 0, -MAX_SERIES - 1)
        if report.job_id:
            pipe.set(self._byjob(report.job_id), report.id, ex=self.ttl)
        pipe.execute()

    def save(self, report: Report) -> None:
        """Store a changed report (status, content); keeps the remaining time to live."""
        self.r.set(self._key(report.id), report.model_dump_json(), keepttl=True)

    def get(self, report_id: str, tenant: str | None = None) -> Report:
        raw = self.r.get(self._key(report_id))
        report = Report.model_validate_json(raw) if raw else None
        if report is None or (tenant is not None and report.tenant != tenant):
            raise NotFound(f"report {report_id!r} not found", code="report_not_found")
        return report

    def for_job(self, job_id: str) -> str | None:
        value = self.r.get(self._byjob(job_id))
        return str(value) if value else None

    def list_reports(self, tenant: str, offset: int = 0, limit: int = 50) -> tuple[int, list[Report]]:
        """Newest first."""
        ids = [str(i) for i in self.r.zrevrange(self._index(tenant), offset, offset + limit - 1)]
        raws = self.r.mget([self._key(i) for i in ids]) if ids else []
        return int(self.r.zcard(self._index(tenant))), [Report.model_validate_json(r) for r in raws if r]

    def earlier(self, report: Report, count: int = 5) -> list[Report]:
        """Reports of the same series created before this one, newest first (those still stored)."""
        ids = self.r.zrevrangebyscore(
            self._series(report.series), f"({report.created_at.timestamp()}", "-inf", start=0, num=count
        )
        raws = self.r.mget([self._key(str(i)) for i in ids]) if ids else []
        return [Report.model_validate_json(raw) for raw in raws if raw]
