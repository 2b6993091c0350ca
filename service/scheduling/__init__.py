"""Recurring jobs: schedules stored in Redis, fired by Celery beat (celery-redbeat), each run recorded.

models.py        Schedule, JobTemplate, ScheduleRun (JSON in Redis and over the API)
ticks.py         pure tick arithmetic: latest tick, check period, on-time or missed
store.py         the Redis layout of schedules, runs and the per-tick guard
beat_entries.py  the redbeat entry that makes beat look at a schedule
runner.py        create/change/pause schedules; fire a tick; trigger now; finish runs
"""
