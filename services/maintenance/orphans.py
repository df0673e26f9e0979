"""Orphaned data cleanup, part of the weekly database maintenance (the seed's Tuesday task:
"VACUUM, REINDEX, orphaned data cleanup").

What is an orphan depends on QuickCart's schema, so the queries come from RULES_FILE:

    orphans:
      queries:
        - name: orders_without_payment
          count_sql: SELECT count(*) FROM orders o WHERE ...
          delete_sql: DELETE FROM orders WHERE id IN (SELECT o.id FROM orders o WHERE ... LIMIT $1)
          batch_size: 500

Every run counts (a dry run); rows are deleted only inside a maintenance window or after a
staff member confirmed, in batches of `batch_size` (each its own short statement, so locks stay
short), at most `max_batches` per query. Counts and deletions are recorded in the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from services.maintenance.database import maintenance_connection
from services.results import as_json

APPLICATION_NAME = "quickcart-ops-orphans"


class OrphanQuery(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    count_sql: str  # one number
    delete_sql: str  # deletes at most $1 rows
    batch_size: int = Field(default=1000, ge=1, le=100_000)


class OrphanRules(BaseModel):
    """RULES_FILE `orphans`; none by default (the sandbox ships its demo schema's)."""

    queries: list[OrphanQuery] = Field(default_factory=list)
    max_batches: int = Field(default=100, ge=1)
    pause_s: float = Field(default=0.0, ge=0)  # between batches, to leave room for traffic
    statement_timeout_s: int = Field(default=60, ge=1)
    lock_timeout_ms: int = Field(default=2000, ge=1)


@dataclass
class OrphanResult:
    name: str
    found: int | None = None
    deleted: int = 0
    batches: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return as_json(self)


@dataclass
class OrphanReport:
    results: list[OrphanResult] = field(default_factory=list)
    deleting: bool = False

    @property
    def found(self) -> int:
        return sum(r.found or 0 for r in self.results)

    @property
    def deleted(self) -> int:
        return sum(r.deleted for r in self.results)

    @property
    def errors(self) -> list[OrphanResult]:
        return [r for r in self.results if r.error]

    def to_json(self) -> dict[str, Any]:
        return {
            "deleting": self.deleting,
            "found": self.found,
            "deleted": self.deleted,
            "queries": [r.to_json() for r in self.results],
        }


def _rows(status: str) -> int:
    """`DELETE 500` -> 500."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


async def _delete(
    conn: asyncpg.Connection, query: OrphanQuery, rules: OrphanRules, result: OrphanResult
) -> None:
    while result.batches < rules.max_batches:
        status = await conn.execute(query.delete_sql, query.batch_size)
        result.batches += 1
        removed = _rows(status)
        result.deleted += removed
        if removed < query.batch_size:
            return
        if rules.pause_s:
            await asyncio.sleep(rules.pause_s)


async def clean(url: str, rules: OrphanRules, *, delete: bool) -> OrphanReport:
    """Count every query's orphans; delete them in batches when `delete`. A failing query is
    recorded and the others go on."""
    report = OrphanReport(deleting=delete)
    if not rules.queries:
        return report
    conn = await maintenance_connection(url, rules, APPLICATION_NAME)
    try:
        for query in rules.queries:
            result = OrphanResult(query.name)
            report.results.append(result)
            try:
                result.found = int(await conn.fetchval(query.count_sql) or 0)
                if delete and result.found:
                    await _delete(conn, query, rules, result)
            except asyncpg.PostgresError as exc:
                result.error = _error(exc)
    finally:
        await conn.close()
    return report
