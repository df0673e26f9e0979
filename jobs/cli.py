"""`quickcart-ops jobs list` / `jobs run NAME` and /jobs: the schedule with next and last runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from jobs.registry import JOBS
from jobs.runner import run_now
from jobs.schedule import ScheduleRules, effective_schedule, next_run
from services.maintenance import runs
from services.maintenance.runs import MaintenanceRun
from services.rules import Rules
from services.storage.types import Executor


@dataclass(frozen=True)
class JobListing:
    name: str
    when: str  # language-neutral description of the schedule
    enabled: bool
    destructive: bool
    next_run: datetime | None
    last: MaintenanceRun | None


async def list_jobs(
    rules: Rules, timezone: str, now: datetime, pool: Executor | None = None
) -> list[JobListing]:
    """Every job with its schedule, next run (after `now`) and, given a pool, its last run."""
    tz = ZoneInfo(timezone)
    schedule = effective_schedule(rules.section("schedule", ScheduleRules))
    last = await runs.last_per_job(pool) if pool is not None else {}
    listings = []
    for name, job in JOBS.items():
        timing = schedule[name]
        listings.append(
            JobListing(
                name=name,
                when=timing.describe(),
                enabled=timing.enabled,
                destructive=job.destructive,
                next_run=next_run(timing, tz, now) if timing.enabled else None,
                last=last.get(name),
            )
        )
    listings.sort(key=lambda j: (j.next_run is None, j.next_run or now, j.name))
    return listings


def jobs_table(listings: list[JobListing], timezone: str) -> str:
    """Plain text for the terminal (the CLI is for operators; names are the registry's)."""
    tz = ZoneInfo(timezone)
    lines = [f"{'JOB':<28} {'SCHEDULE':<16} {'NEXT RUN (' + timezone + ')':<28} LAST"]
    for j in listings:
        when = j.next_run.astimezone(tz).strftime("%Y-%m-%d %H:%M %a") if j.next_run else "off"
        last = "-"
        if j.last is not None:
            last = f"{j.last.status.value} {j.last.started_at.astimezone(tz):%Y-%m-%d %H:%M}"
        lines.append(f"{j.name:<28} {j.when:<16} {when:<28} {last}")
    return "\n".join(lines)


# One job now, recorded, as the CLI runs it (`jobs.runner.run_now` with `triggered_by="cli"`);
# raises `jobs.runner.UnknownJob` for a wrong name. An operator at a terminal is the confirmation
# for destructive jobs, so the `quickcart-ops` job command passes `confirmed=True`; database
# maintenance still dry-runs outside a maintenance window unless confirmed.
run_job = partial(run_now, triggered_by="cli")


def exit_code(run: MaintenanceRun) -> int:
    """0 ok / skipped, 1 warn, 2 failed: like `quickcart-ops check`."""
    return {"ok": 0, "skipped": 0, "warn": 1, "failed": 2}.get(run.status.value, 2)
