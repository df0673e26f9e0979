"""The scheduler in Asia/Jakarta: one run per slot across replicas, catch-up once after downtime."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from jobs.context import JobDeps
from jobs.registry import JOBS, JobDef
from jobs.runner import catch_up, run_now, run_scheduled
from jobs.scheduler import build_scheduler
from services.maintenance import runs
from services.maintenance.runs import JobOutcome, RunStatus

JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)  # type: ignore[arg-type,misc]


async def test_two_replicas_firing_the_same_slot_run_the_job_once(
    make_deps: Callable[..., JobDeps], second_pool: asyncpg.Pool, pool: asyncpg.Pool
) -> None:
    # Sunday 09:00:02 Jakarta: both schedulers fire the system-updates checklist
    at = jkt(2026, 11, 8, 9, 0, 2)
    replica_a = make_deps(at, instance="replica-a")
    replica_b = make_deps(at, pool=second_pool, instance="replica-b")

    results = await asyncio.gather(
        *(run_scheduled("system_updates_checklist", d) for d in (replica_a, replica_b) * 3)
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await runs.history(pool, "system_updates_checklist")
    assert len(stored) == 1
    assert stored[0].scheduled_for == jkt(2026, 11, 8, 9, 0)
    assert stored[0].status is RunStatus.OK
    pushed = await pool.fetchval("SELECT count(*) FROM outbox WHERE owner LIKE 'maintenance_run:%'")
    assert pushed == 1


async def test_the_next_days_slot_runs_again(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    deps = make_deps(jkt(2026, 11, 8, 9, 0, 1))
    assert await run_scheduled("system_updates_checklist", deps) is not None
    deps.clock.set(jkt(2026, 11, 15, 9, 0, 1))  # type: ignore[attr-defined]
    assert await run_scheduled("system_updates_checklist", deps) is not None
    assert len(await runs.history(pool, "system_updates_checklist")) == 2


async def test_after_three_days_down_each_missed_job_is_caught_up_once(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    # down from Saturday evening; back on Tuesday 05:00 Jakarta
    deps = make_deps(jkt(2026, 11, 3, 5, 0))
    names = ["backup_verification", "log_rotation", "security_review", "weekly_report"]

    first = await catch_up(deps, names)
    again = await catch_up(deps, names)

    caught = sorted((r.job, r.scheduled_for) for r in first)
    assert caught == [
        ("backup_verification", jkt(2026, 11, 3, 4, 0)),
        ("log_rotation", jkt(2026, 11, 3, 2, 0)),
    ]  # Monday's security review (26 h ago) and weekly report are past their grace
    assert all(r.triggered_by == "catch_up" for r in first)
    assert again == []
    total = await pool.fetchval("SELECT count(*) FROM maintenance_runs")
    assert total == 2
    # no BACKUP_DIR: the verification fails loudly and the admin chat gets a Retry button
    failed = next(r for r in first if r.job == "backup_verification")
    assert failed.status is RunStatus.FAILED
    markup = await pool.fetchval(
        "SELECT payload->'reply_markup' FROM outbox WHERE owner = $1",
        f"maintenance_run:{failed.id}",
    )
    assert markup["inline_keyboard"][0][0]["callback_data"] == "mj:retry:backup_verification"


async def test_a_slot_already_run_by_hand_is_not_caught_up(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    deps = make_deps(jkt(2026, 11, 3, 4, 30))
    await run_now("log_rotation", deps, triggered_by="staff", actor_id=7)
    deps.clock.set(jkt(2026, 11, 3, 5, 0))  # type: ignore[attr-defined]
    assert await catch_up(deps, ["log_rotation"]) == []
    history = await runs.history(pool, "log_rotation")
    assert [(r.triggered_by, r.actor_id) for r in history] == [("staff", 7)]


async def test_the_apscheduler_jobs_carry_the_seeds_next_run_times_in_jakarta(
    make_deps: Callable[..., JobDeps],
) -> None:
    deps = make_deps(jkt(2026, 11, 2, 1, 0))
    scheduler = build_scheduler(deps)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    # the seed's 19, the desk's ticket_auto_close, the quarterly checklist and its reminders
    assert len(jobs) == 22
    trigger = jobs["compliance_report"].trigger
    assert trigger.get_next_fire_time(None, jkt(2028, 2, 3, 0, 0)) == jkt(2028, 2, 29, 23, 0)
    assert jobs["database_maintenance"].misfire_grace_time == 3 * 3600
    assert jobs["database_maintenance"].coalesce is True


async def test_a_job_that_crashes_is_recorded_as_failed_and_offered_for_retry(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crashes(ctx: object) -> JobOutcome:
        raise ConnectionResetError("QuickCart's database went away")

    # the registry entry is swapped for a crashing function: no real job crashes on demand
    monkeypatch.setitem(JOBS, "fraud_review", JobDef("fraud_review", crashes))
    deps = make_deps(jkt(2026, 11, 6, 5, 0, 1))

    run = await run_scheduled("fraud_review", deps)

    assert run is not None and run.status is RunStatus.FAILED
    assert run.summary == (
        "The job stopped with an error: ConnectionResetError: QuickCart's database went away"
    )
    payload = await pool.fetchval(
        "SELECT payload FROM outbox WHERE owner = $1", f"maintenance_run:{run.id}"
    )
    assert "❌" in payload["text"] and "Fraud review" in payload["text"]
    assert (
        payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "mj:retry:fraud_review"
    )
