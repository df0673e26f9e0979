"""The quarter_tasks table: a quarter's checklist, created once, ticked off with evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from services.quarterly.config import QuarterPlan
from services.storage.records import record, rowcount
from services.storage.types import Executor
from services.users import shown_name_in


@dataclass(frozen=True)
class QuarterTask:
    id: int
    quarter: str
    key: str
    focus: str
    title: str
    owner_role: str
    created_at: datetime
    done_at: datetime | None = None
    done_by: int | None = None
    done_by_name: str | None = None
    evidence_note: str | None = None
    evidence_file: str | None = None
    evidence_kind: str | None = None
    evidence_name: str | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


_SELECT = """
    SELECT q.*, u.first_name, s.display_name
    FROM quarter_tasks q
    LEFT JOIN users u ON u.id = q.done_by
    LEFT JOIN staff s ON s.user_id = q.done_by
"""


def _task(row: Record) -> QuarterTask:
    return record(QuarterTask, row, done_by_name=shown_name_in(row, row["done_by"]))


async def ensure(db: Executor, quarter: str, plan: QuarterPlan, now: datetime) -> int:
    """Create the quarter's checklist (idempotent); returns how many tasks were new."""
    created = 0
    for task in plan.tasks:
        status: str = await db.execute(
            """
            INSERT INTO quarter_tasks (quarter, key, focus, title, owner_role, created_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (quarter, key) DO NOTHING
            """,
            quarter,
            task.key,
            plan.focus,
            task.title,
            task.owner.value,
            now,
        )
        created += rowcount(status)
    return created


async def tasks(db: Executor, quarter: str) -> list[QuarterTask]:
    rows = await db.fetch(_SELECT + " WHERE q.quarter = $1 ORDER BY q.id", quarter)
    return [_task(r) for r in rows]


async def get(db: Executor, task_id: int, *, lock: bool = False) -> QuarterTask | None:
    if lock:
        await db.execute("SELECT 1 FROM quarter_tasks WHERE id = $1 FOR UPDATE", task_id)
    row = await db.fetchrow(_SELECT + " WHERE q.id = $1", task_id)
    return _task(row) if row else None


async def mark_done(
    db: Executor,
    task_id: int,
    *,
    by: int,
    at: datetime,
    note: str | None,
    file_id: str | None,
    kind: str | None,
    file_name: str | None,
) -> bool:
    status: str = await db.execute(
        """
        UPDATE quarter_tasks
        SET done_at = $2, done_by = $3, evidence_note = $4, evidence_file = $5,
            evidence_kind = $6, evidence_name = $7
        WHERE id = $1 AND done_at IS NULL
        """,
        task_id,
        at,
        by,
        note,
        file_id,
        kind,
        file_name,
    )
    return rowcount(status) == 1


async def reopen(db: Executor, task_id: int) -> bool:
    status: str = await db.execute(
        """
        UPDATE quarter_tasks
        SET done_at = NULL, done_by = NULL, evidence_note = NULL, evidence_file = NULL,
            evidence_kind = NULL, evidence_name = NULL
        WHERE id = $1 AND done_at IS NOT NULL
        """,
        task_id,
    )
    return rowcount(status) == 1


async def open_quarters(db: Executor, before: str) -> list[str]:
    """Quarters before `before` that still have open tasks and no report yet."""
    rows = await db.fetch(
        """
        SELECT DISTINCT quarter FROM quarter_tasks q
        WHERE quarter < $1
          AND NOT EXISTS (SELECT 1 FROM quarter_reports r WHERE r.quarter = q.quarter)
        ORDER BY quarter
        """,
        before,
    )
    return [r["quarter"] for r in rows]


async def claim_report(db: Executor, quarter: str, at: datetime, reason: str) -> bool:
    """The quarter's report is sent once: when its last task is ticked, or when it ends."""
    status: str = await db.execute(
        "INSERT INTO quarter_reports (quarter, sent_at, reason) VALUES ($1, $2, $3)"
        " ON CONFLICT (quarter) DO NOTHING",
        quarter,
        at,
        reason,
    )
    return rowcount(status) == 1


async def mark_reminded(db: Executor, task_ids: list[int], at: datetime) -> None:
    await db.execute(
        "UPDATE quarter_tasks SET reminded_at = $2 WHERE id = ANY($1::bigint[])", task_ids, at
    )
