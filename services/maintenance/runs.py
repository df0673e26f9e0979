"""The maintenance_runs table: every run of a maintenance job, with what it found.

A scheduled run first *claims its slot* (job + scheduled time) with an INSERT that only one
process can win; the others get None and skip without writing anything. Runs started by a
person have no slot and always start.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.storage.records import columns, jsonb, record, rowcount
from services.storage.types import Executor


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    WARN = "warn"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class JobOutcome:
    """What a job function returns: a verdict, one line for people, and the structured facts."""

    status: RunStatus
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MaintenanceRun:
    id: int
    job: str
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    summary: str
    details: dict[str, Any]
    triggered_by: str
    actor_id: int | None

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


_COLUMNS = columns(MaintenanceRun)


def _run(row: Any) -> MaintenanceRun:
    return record(
        MaintenanceRun,
        row,
        status=RunStatus(row["status"]),
        details=dict(jsonb(row["details"]) or {}),
    )


async def claim_slot(
    db: Executor,
    job: str,
    scheduled_for: datetime,
    *,
    started_at: datetime,
    triggered_by: str = "scheduler",
    claimed_by: str | None = None,
) -> int | None:
    """Start the run of `job` for its slot; None when another process already has it."""
    run_id: int | None = await db.fetchval(
        """
        INSERT INTO maintenance_runs (job, scheduled_for, started_at, triggered_by, claimed_by)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (job, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
        RETURNING id
        """,
        job,
        scheduled_for,
        started_at,
        triggered_by,
        claimed_by,
    )
    return run_id


async def start_manual(
    db: Executor,
    job: str,
    *,
    started_at: datetime,
    triggered_by: str,
    actor_id: int | None = None,
    claimed_by: str | None = None,
) -> int:
    run_id: int = await db.fetchval(
        """
        INSERT INTO maintenance_runs (job, started_at, triggered_by, actor_id, claimed_by)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id
        """,
        job,
        started_at,
        triggered_by,
        actor_id,
        claimed_by,
    )
    return run_id


async def finish(
    db: Executor, run_id: int, outcome: JobOutcome, *, finished_at: datetime
) -> MaintenanceRun:
    row = await db.fetchrow(
        f"""
        UPDATE maintenance_runs
        SET status = $2, summary = $3, details = $4, finished_at = $5
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        run_id,
        outcome.status.value,
        outcome.summary[:1000],
        json.loads(json.dumps(outcome.details, default=str)),
        finished_at,
    )
    return _run(row)


async def get(db: Executor, run_id: int) -> MaintenanceRun | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM maintenance_runs WHERE id = $1", run_id)
    return None if row is None else _run(row)


async def history(db: Executor, job: str | None = None, limit: int = 10) -> list[MaintenanceRun]:
    """The newest runs first, of one job or of all."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM maintenance_runs
        WHERE $1::text IS NULL OR job = $1
        ORDER BY started_at DESC, id DESC
        LIMIT $2
        """,
        job,
        limit,
    )
    return [_run(r) for r in rows]


async def last_per_job(db: Executor) -> dict[str, MaintenanceRun]:
    rows = await db.fetch(
        f"""
        SELECT DISTINCT ON (job) {_COLUMNS} FROM maintenance_runs
        ORDER BY job, started_at DESC, id DESC
        """
    )
    return {r["job"]: _run(r) for r in rows}


async def last_finished(
    db: Executor, job: str, *, before_id: int | None = None, status: RunStatus | None = None
) -> MaintenanceRun | None:
    """The newest finished run of `job` (optionally older than run `before_id`)."""
    row = await db.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM maintenance_runs
        WHERE job = $1 AND finished_at IS NOT NULL AND ($2::bigint IS NULL OR id < $2)
          AND ($3::text IS NULL OR status = $3)
        ORDER BY started_at DESC, id DESC
        LIMIT 1
        """,
        job,
        before_id,
        status.value if status else None,
    )
    return None if row is None else _run(row)


async def has_run_since(db: Executor, job: str, since: datetime) -> bool:
    """Whether `job` ran (any trigger) for a slot or start time at or after `since`."""
    found: bool = await db.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM maintenance_runs
                       WHERE job = $1 AND coalesce(scheduled_for, started_at) >= $2)
        """,
        job,
        since,
    )
    return found


async def first_started_at(db: Executor) -> datetime | None:
    """When this installation first ran a job: its first start, as far as the jobs can tell
    (runs are kept for a year and more, see `retention.maintenance_run_days`)."""
    first: datetime | None = await db.fetchval("SELECT min(started_at) FROM maintenance_runs")
    return first


async def between(db: Executor, start: datetime, end: datetime) -> list[MaintenanceRun]:
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM maintenance_runs
        WHERE started_at >= $1 AND started_at < $2
        ORDER BY started_at, id
        """,
        start,
        end,
    )
    return [_run(r) for r in rows]


async def abandon_stale(
    db: Executor, *, older_than: datetime, finished_at: datetime, summary: str
) -> int:
    """Runs left 'running' by a process that died: marked failed so history tells the truth."""
    result: str = await db.execute(
        """
        UPDATE maintenance_runs
        SET status = 'failed', finished_at = $2, summary = $3
        WHERE status = 'running' AND started_at < $1
        """,
        older_than,
        finished_at,
        summary,
    )
    return rowcount(result)


async def prune(db: Executor, before: datetime) -> int:
    result: str = await db.execute("DELETE FROM maintenance_runs WHERE started_at < $1", before)
    return rowcount(result)
