"""Database maintenance on QuickCart's PostgreSQL: VACUUM (ANALYZE) and REINDEX CONCURRENTLY.

What to do is decided from the catalogue, the same way the database probe marks tables:
- a table needs VACUUM when its dead tuples pass `min_dead_tuples` and `dead_ratio` of all;
- an index needs REINDEX when its size exceeds an estimate of what its live entries need by
  `bloat_ratio` and at least `min_bloat_bytes` (a cheap estimate from pg_class and pg_stats in
  the spirit of the well-known ioguix query; no extension needed).

`plan()` only reads; `execute()` runs the plan one statement at a time outside any transaction
(both commands refuse to run inside one), with a short `lock_timeout` so a busy table is
skipped rather than blocking QuickCart's traffic. The caller decides whether now is allowed
(`window_allows`): inside a maintenance window, inside the nightly low-traffic hours, or after a
staff member confirmed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dtime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel

from services.checks.probes.database import VACUUM_DUE
from services.results import as_json
from services.storage.types import Executor

APPLICATION_NAME = "quickcart-ops-maintenance"


class DatabaseMaintenancePolicy(BaseModel):
    """RULES_FILE `maintenance.database`."""

    min_dead_tuples: int = 1000
    dead_ratio: float = 0.2  # autovacuum's default scale factor
    min_bloat_bytes: int = 10 * 1024 * 1024
    bloat_ratio: float = 2.0  # twice the size its live entries need
    max_tables: int = 20
    max_indexes: int = 10
    low_traffic_hours: str = "01:00-05:00"  # in TIMEZONE; outside it, only with a window/confirm
    statement_timeout_s: int = 1800
    lock_timeout_ms: int = 5000


@dataclass(frozen=True)
class Action:
    kind: Literal["vacuum", "reindex"]
    target: str  # already quoted by PostgreSQL (format('%I.%I'))
    reason: dict[str, Any]

    @property
    def sql(self) -> str:
        # `target` comes from format('%I.%I', ...) in the catalogue query: quoted by the server.
        if self.kind == "vacuum":
            return f"VACUUM (ANALYZE) {self.target}"
        return f"REINDEX INDEX CONCURRENTLY {self.target}"


@dataclass
class ActionResult:
    action: Action
    ok: bool
    seconds: float
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.action.kind,
            "target": self.action.target,
            "reason": self.action.reason,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass
class MaintenanceResult:
    planned: list[Action]
    done: list[ActionResult] = field(default_factory=list)
    dry_run: bool = True
    seconds: float = 0.0

    @property
    def failed(self) -> list[ActionResult]:
        return [r for r in self.done if not r.ok]

    def to_json(self) -> dict[str, Any]:
        return as_json(self, seconds=round(self.seconds, 3))


# Expected size of a btree: one entry (item pointer 6 + info 2 + line pointer 4 + key width,
# rounded up to 8) per live row, pages filled to the index's fillfactor (90 % by default).
_BLOATED_INDEXES = """
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, c.relpages, c.reltuples, n.nspname, c.relname,
           coalesce((SELECT option_value::int FROM pg_options_to_table(c.reloptions)
                     WHERE option_name = 'fillfactor'), 90) AS fillfactor,
           current_setting('block_size')::int AS bs,
           (SELECT coalesce(sum(s.avg_width), 8)
              FROM unnest(i.indkey) AS k(attnum)
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              LEFT JOIN pg_stats s ON s.schemaname = n.nspname
                   AND s.tablename = (SELECT relname FROM pg_class WHERE oid = i.indrelid)
                   AND s.attname = a.attname) AS key_width
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_am am ON am.oid = c.relam
    WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), est AS (
    SELECT *, 1 + ceil(greatest(reltuples, 0) * (ceil((12 + key_width) / 8.0) * 8)
                       / ((bs - 40) * fillfactor / 100.0)) AS expected_pages
    FROM idx
)
SELECT format('%I.%I', nspname, relname) AS target, relpages::bigint AS pages,
       expected_pages::bigint AS expected_pages,
       ((relpages - expected_pages) * bs)::bigint AS bloat_bytes,
       relpages::float8 / greatest(expected_pages, 1) AS ratio
FROM est
WHERE (relpages - expected_pages) * bs >= $1
  AND relpages::float8 / greatest(expected_pages, 1) >= $2
ORDER BY (relpages - expected_pages) DESC
LIMIT $3
"""


async def plan(conn: Executor, policy: DatabaseMaintenancePolicy) -> list[Action]:
    """What maintenance the database needs now (reads statistics only)."""
    actions: list[Action] = []
    for row in await conn.fetch(
        VACUUM_DUE, policy.min_dead_tuples, policy.dead_ratio, policy.max_tables
    ):
        actions.append(
            Action("vacuum", row["target"], {"dead": int(row["dead"]), "live": int(row["live"])})
        )
    for row in await conn.fetch(
        _BLOATED_INDEXES, policy.min_bloat_bytes, policy.bloat_ratio, policy.max_indexes
    ):
        reason = {
            "pages": int(row["pages"]),
            "expected_pages": int(row["expected_pages"]),
            "bloat_bytes": int(row["bloat_bytes"]),
            "ratio": round(float(row["ratio"]), 2),
        }
        actions.append(Action("reindex", row["target"], reason))
    return actions


Progress = Callable[[int, int, Action], Awaitable[None]]


async def execute(
    conn: asyncpg.Connection,
    actions: list[Action],
    *,
    progress: Progress | None = None,
) -> list[ActionResult]:
    """Run each action; a failure (lock timeout, permission) is recorded and the rest go on."""
    results: list[ActionResult] = []
    for index, action in enumerate(actions):
        if progress is not None:
            await progress(index, len(actions), action)
        t0 = time.perf_counter()
        try:
            await conn.execute(action.sql)
            results.append(ActionResult(action, True, time.perf_counter() - t0))
        except asyncpg.PostgresError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            results.append(ActionResult(action, False, time.perf_counter() - t0, error))
    return results


class Timeouts(Protocol):
    """A task's policy: how long one statement may run, and wait for a lock."""

    @property
    def statement_timeout_s(self) -> int: ...

    @property
    def lock_timeout_ms(self) -> int: ...


async def maintenance_connection(
    url: str, policy: Timeouts, application_name: str = APPLICATION_NAME
) -> asyncpg.Connection:
    """A connection for a maintenance task, named for it in pg_stat_activity, with the task's
    statement and lock timeouts (a task never waits on a lock for long)."""
    conn: asyncpg.Connection = await asyncpg.connect(
        url,
        timeout=10,
        server_settings={
            "application_name": application_name,
            "statement_timeout": str(policy.statement_timeout_s * 1000),
            "lock_timeout": str(policy.lock_timeout_ms),
        },
    )
    return conn


async def run_maintenance(
    url: str,
    policy: DatabaseMaintenancePolicy,
    *,
    dry_run: bool,
    progress: Progress | None = None,
) -> MaintenanceResult:
    t0 = time.perf_counter()
    conn = await maintenance_connection(url, policy)
    try:
        actions = await plan(conn, policy)
        result = MaintenanceResult(planned=actions, dry_run=dry_run)
        if not dry_run:
            result.done = await execute(conn, actions, progress=progress)
    finally:
        await conn.close()
    result.seconds = time.perf_counter() - t0
    return result


def _hours(spec: str) -> tuple[dtime, dtime]:
    start, _, end = spec.partition("-")
    return dtime.fromisoformat(start.strip()), dtime.fromisoformat(end.strip())


def in_low_traffic_hours(now: datetime, tz: ZoneInfo, spec: str) -> bool:
    start, end = _hours(spec)
    local = now.astimezone(tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight, e.g. 23:00-04:00


async def in_maintenance_window(db: Executor, now: datetime) -> bool:
    """An open window from /maintenance (services/alerts, migration 0006) covers `now`."""
    found: bool = await db.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM maintenance_windows
                       WHERE starts_at <= $1 AND ends_at > $1 AND stopped_at IS NULL)
        """,
        now,
    )
    return found


async def window_allows(
    db: Executor, now: datetime, tz: ZoneInfo, policy: DatabaseMaintenancePolicy
) -> str | None:
    """Why running now is allowed ('window', 'low_traffic'), or None when it is not."""
    if await in_maintenance_window(db, now):
        return "window"
    if in_low_traffic_hours(now, tz, policy.low_traffic_hours):
        return "low_traffic"
    return None
