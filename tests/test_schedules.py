"""Schedules: tick arithmetic, the per-tick guard, missed-run policy, and real beat processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.client import LongdocClient
from service.config import Settings
from service.local_stack import LocalStack
from service.pipeline import build_services
from service.queue import JobQueue
from service.scheduling import runner
from service.scheduling.models import JobTemplate, Schedule, ScheduleIn
from service.scheduling.runner import _job_spec
from service.scheduling.ticks import latest_tick
from service.settings_env import PREFIX, to_env

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


def test_cron_ticks_follow_the_schedules_time_zone() -> None:
    template = JobTemplate(document_ids=["doc_x"])
    at_nine = Schedule(
        id="s", tenant="t", name="n", cron="0 9 * * *", timezone="Europe/Berlin", template=template
    )
    summer = latest_tick(at_nine, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    winter = latest_tick(at_nine, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    assert summer == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # CEST, UTC+2
    assert winter == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)  # CET, UTC+1
    on_tick = latest_tick(at_nine, datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
    assert on_tick == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def test_schedule_needs_exactly_one_timing() -> None:
    with pytest.raises(ValueError):
        ScheduleIn(name="x", template=JobTemplate(document_ids=["d"]))
    with pytest.raises(ValueError):
        ScheduleIn(name="x", cron="* * * * *", interval_s=5, template=JobTemplate(document_ids=["d"]))
    with pytest.raises(ValueError):
        ScheduleIn(name="x", cron="every day", template=JobTemplate(document_ids=["d"]))


def _schedule(settings: Settings, missed: str) -> tuple[Any, Schedule]:
    services = build_services(settings)
    body = ScheduleIn(
        name="missed", interval_s=3600, missed=missed, template=JobTemplate(document_ids=["doc_missing"])
    )
    return services, runner.create(services, body, "default")


@pytest.mark.parametrize("policy", ["skip", "run_once"])
def test_missed_ticks_follow_the_policy_and_count_once(settings: Settings, policy: str) -> None:
    services, schedule = _schedule(settings, policy)
    queue = JobQueue(settings)
    much_later = schedule.anchor + timedelta(hours=3, minutes=30)  # beat was down: 3 ticks, the last late
    run = runner.fire(services, queue, schedule.id, much_later)
    assert run is not None and run.missed
    assert run.tick == schedule.anchor + timedelta(hours=3)
    if policy == "skip":
        assert run.status == "skipped" and run.job_id is None
    else:  # it tried to run: the template names a document that does not exist
        assert run.status == "failed" and run.error is not None and run.error.code == "document_not_found"
    assert runner.fire(services, queue, schedule.id, much_later + timedelta(seconds=1)) is None
    on_time = runner.fire(services, queue, schedule.id, schedule.anchor + timedelta(hours=4, seconds=3))
    assert on_time is not None and not on_time.missed and on_time.status != "skipped"
    total, _ = runner.store(services).runs(schedule.id)
    assert total == 2
    queue.close()


def test_concurrent_fires_of_one_tick_run_it_once(settings: Settings) -> None:
    services, schedule = _schedule(settings, "run_once")
    on_time = schedule.anchor + timedelta(seconds=3600.2)
    results: list[object] = []

    def fire() -> None:
        own = build_services(settings)  # separate connections, like separate beat processes
        results.append(runner.fire(own, JobQueue(settings), schedule.id, on_time))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r is not None) == 1
    assert runner.store(services).runs(schedule.id)[0] == 1


# ---------------------------------------------------------------- real beat processes


def _beat(stack: LocalStack, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(to_env(stack.settings))
    env.update(
        {"LONGDOC_REPORTING__BEAT_MAX_INTERVAL_S": "0.5", "LONGDOC_REPORTING__SWEEP_INTERVAL_S": "0.5"}
    )
    env.update(extra)
    out = open(log, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "beat"], env=env, stdout=out, stderr=out, start_new_session=True
    )


@pytest.fixture()
def two_beats(stack: LocalStack, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """One beat holding redbeat's lock and one with the lock off: both tick, only the guard dedupes."""
    beats = [
        _beat(stack, tmp_path / "beat1.log"),
        _beat(stack, tmp_path / "beat2.log", LONGDOC_REPORTING__BEAT_LOCK="false"),
    ]
    yield beats
    for proc in beats:
        proc.terminate()
    for proc in beats:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _runs(api: LongdocClient, schedule_id: str) -> list[dict[str, Any]]:
    body = api.http.get(f"/v1/schedules/{schedule_id}/runs", params={"limit": 500}).json()
    return list(reversed(body["items"]))  # oldest first


def _wait_for(predicate: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.2)


def test_beats_run_each_tick_once_and_follow_changes(
    api: LongdocClient, two_beats: list[subprocess.Popen[bytes]]
) -> None:
    name = f"logs/sched-{uuid.uuid4().hex[:6]}"
    with open(SAMPLES / "release_notes.txt", "rb") as f:
        api.http.post("/v1/documents", params={"collection": name}, files={"file": f}).raise_for_status()
    body = {"name": "digest", "interval_s": 2, "template": {"type": "summarize", "collection": name}}
    created = api.http.post("/v1/schedules", json=body)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]

    _wait_for(lambda: len(_runs(api, sid)) >= 3, 30)
    runs = _runs(api, sid)
    ticks = [r["tick"] for r in runs]
    assert len(ticks) == len(set(ticks)), "a tick ran twice"
    gaps = {
        round((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds())
        for a, b in zip(ticks, ticks[1:], strict=False)
    }
    assert gaps == {2}, gaps
    assert all(r["trigger"] == "schedule" for r in runs)
    # the first tick may have passed while the beat processes were still starting: "missed" is right there
    assert not any(r["missed"] for r in runs[1:])

    # change the interval at run time: the next runs follow it, without restarting beat
    patched = api.http.patch(f"/v1/schedules/{sid}", json={"interval_s": 1})
    assert patched.status_code == 200 and patched.json()["interval_s"] == 1
    changed_at = datetime.fromisoformat(patched.json()["anchor"])
    _wait_for(
        lambda: sum(1 for r in _runs(api, sid) if datetime.fromisoformat(r["tick"]) > changed_at) >= 3, 20
    )
    after = [
        datetime.fromisoformat(r["tick"])
        for r in _runs(api, sid)
        if datetime.fromisoformat(r["tick"]) > changed_at
    ]
    assert {round((b - a).total_seconds()) for a, b in zip(after, after[1:], strict=False)} == {1}

    # paused: nothing runs; the history shows jobs closed with status, timings and usage
    assert api.http.post(f"/v1/schedules/{sid}/pause").json()["paused"] is True
    time.sleep(0.3)  # a look that had already started may still finish its tick
    count = len(_runs(api, sid))
    time.sleep(2.5)
    assert len(_runs(api, sid)) == count
    _wait_for(lambda: all(r["status"] != "submitted" for r in _runs(api, sid)), 30)
    finished = _runs(api, sid)
    assert len({r["job_id"] for r in finished}) == len(finished)
    assert all(r["status"] == "succeeded" for r in finished)
    assert all(r["usage"]["total_tokens"] > 0 and r["finished_at"] >= r["started_at"] for r in finished)

    # trigger now works while paused, and counts as a manual run
    manual = api.http.post(f"/v1/schedules/{sid}/run")
    assert manual.status_code == 202 and manual.json()["trigger"] == "manual"
    assert api.http.delete(f"/v1/schedules/{sid}").status_code == 204
    assert api.http.get(f"/v1/schedules/{sid}").status_code == 404


def test_a_resolved_window_becomes_the_jobs_time_range(settings: Settings) -> None:
    end = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
    window = {"start": end - timedelta(hours=24), "end": end}
    template = JobTemplate(type="qa", document_ids=["doc_x"], question="what failed?")
    spec, _ = _job_spec(build_services(settings), template, window)
    assert spec.options.time_range is not None
    assert (spec.options.time_range.start, spec.options.time_range.end) == (window["start"], end)
    plain, _ = _job_spec(build_services(settings), template, None)
    assert plain.options.time_range is None
