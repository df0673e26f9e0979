"""The seed's schedule in Asia/Jakarta: daily, weekly and monthly slots, last day of the month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.registry import JOBS
from jobs.schedule import (
    DEFAULT_SCHEDULE,
    ScheduleRules,
    effective_schedule,
    last_slot,
    next_run,
    slots_between,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)  # type: ignore[arg-type,misc]


def test_every_scheduled_job_is_registered_and_every_registered_job_is_scheduled() -> None:
    assert set(DEFAULT_SCHEDULE) == set(JOBS)


@pytest.mark.parametrize(
    ("job", "after", "expected"),
    [
        ("log_rotation", jkt(2026, 11, 2, 1, 0), jkt(2026, 11, 2, 2, 0)),
        ("cache_cleanup", jkt(2026, 11, 2, 1, 0), jkt(2026, 11, 2, 3, 0)),
        ("backup_verification", jkt(2026, 11, 2, 4, 0), jkt(2026, 11, 3, 4, 0)),
        ("backup_verification_report", jkt(2026, 11, 2, 7, 0), jkt(2026, 11, 2, 7, 30)),
        ("cache_cleanup_report", jkt(2026, 11, 2, 7, 59), jkt(2026, 11, 2, 8, 0)),
        # 2026-11-02 is a Monday
        ("dependency_review", jkt(2026, 11, 2, 12, 0), jkt(2026, 11, 8, 1, 0)),  # Sunday
        ("database_maintenance", jkt(2026, 11, 2, 12, 0), jkt(2026, 11, 8, 2, 0)),  # Sunday
        ("security_review", jkt(2026, 11, 2, 1, 0), jkt(2026, 11, 2, 3, 0)),  # Monday
        ("backup_restore_test", jkt(2026, 11, 2, 1, 0), jkt(2026, 11, 7, 5, 0)),  # Saturday
        ("monthly_maintenance", jkt(2026, 11, 2, 1, 0), jkt(2026, 12, 1, 0, 0)),
        ("compliance_report", jkt(2026, 11, 2, 1, 0), jkt(2026, 11, 30, 23, 0)),
        ("compliance_report", jkt(2026, 12, 1, 0, 0), jkt(2026, 12, 31, 23, 0)),
    ],
)
def test_the_next_run_is_the_seeds_time_in_jakarta(
    job: str, after: datetime, expected: datetime
) -> None:
    fire = next_run(DEFAULT_SCHEDULE[job], JAKARTA, after.astimezone(UTC))
    assert fire == expected
    assert fire is not None and fire.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    ("year", "last_day"), [(2024, 29), (2028, 29), (2023, 28), (2026, 28), (2100, 28)]
)
def test_the_compliance_report_runs_on_the_last_day_of_february(year: int, last_day: int) -> None:
    fire = next_run(DEFAULT_SCHEDULE["compliance_report"], JAKARTA, jkt(year, 2, 1, 0, 0))
    assert fire == jkt(year, 2, last_day, 23, 0)


def test_the_compliance_report_runs_once_a_month_on_each_months_last_day() -> None:
    fires = slots_between(
        DEFAULT_SCHEDULE["compliance_report"], JAKARTA, jkt(2024, 1, 1, 0, 0), jkt(2025, 1, 1, 0, 0)
    )
    assert [f.day for f in fires] == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert all((f + timedelta(days=1)).month != f.month for f in fires)


def test_the_slot_a_late_run_belongs_to_is_the_newest_one_within_the_lookback() -> None:
    timing = DEFAULT_SCHEDULE["backup_verification"]
    now = jkt(2026, 11, 2, 4, 7)
    assert last_slot(timing, JAKARTA, now, timedelta(hours=3)) == jkt(2026, 11, 2, 4, 0)
    assert last_slot(timing, JAKARTA, jkt(2026, 11, 2, 8, 0), timedelta(hours=3)) is None


def test_rules_override_one_job_and_keep_the_others() -> None:
    rules = ScheduleRules(
        jobs={
            "database_maintenance": {"every": "week", "day": "tue", "at": "02:30"},
            "compliance_report": {"cron": "0 22 L * *"},
            "fraud_review": {"enabled": False},
        }
    )
    schedule = effective_schedule(rules)
    after = jkt(2026, 11, 2, 12, 0)
    assert next_run(schedule["database_maintenance"], JAKARTA, after) == jkt(2026, 11, 3, 2, 30)
    assert next_run(schedule["compliance_report"], JAKARTA, after) == jkt(2026, 11, 30, 22, 0)
    assert schedule["fraud_review"].enabled is False
    assert schedule["cache_cleanup"] == DEFAULT_SCHEDULE["cache_cleanup"]


@pytest.mark.parametrize(
    "override",
    [
        {"nightly_magic": {"at": "03:00"}},
        {"cache_cleanup": {"at": "25:00"}},
        {"compliance_report": {"every": "month", "date": 0}},
        {"fraud_review": {"every": "week", "day": None}},
    ],
)
def test_a_wrong_override_is_refused(override: dict[str, dict[str, object]]) -> None:
    with pytest.raises(ValueError):
        effective_schedule(ScheduleRules(jobs=override))
