"""Where a rule's numbers come from. Each source returns one sample per series, or None when
it cannot tell (no data: the alert keeps its state).

- `ProbeSource`: values the health checks stored (check_samples, migration 0005), the latest
  or an aggregate (avg, min, max, p95, ...) over a window.
- `UptimeSource`: the share of a check's stored results that were not critical over a window.
- `LogSource`: events counted by log analysis (log_counts) over a window.
- `UnreachableSource`: whether a check's newest result could not measure its target at all.
- `SqlSource`: a read-only query on the bot's own database or QuickCart's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.alerts.config import (
    AlertRule,
    LogMetric,
    ProbeMetric,
    SqlMetric,
    UnreachableMetric,
    UptimeMetric,
)
from services.storage.types import Executor


@dataclass(frozen=True)
class Sample:
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SourceContext:
    db: Executor
    monitor_db: Executor | None = None


class MetricSource(Protocol):
    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None: ...


class NoData(Exception):
    """The source could not be read (its database is down, the query failed)."""


@dataclass(frozen=True)
class ProbeSource:
    metric: ProbeMetric

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        m = self.metric
        rows = await ctx.db.fetch(
            """
            SELECT target, CASE $5::text
                WHEN 'last' THEN (array_agg(value ORDER BY at DESC, id DESC))[1]
                WHEN 'avg' THEN avg(value)
                WHEN 'min' THEN min(value)
                WHEN 'max' THEN max(value)
                WHEN 'sum' THEN sum(value)
                WHEN 'p95' THEN percentile_cont(0.95) WITHIN GROUP (ORDER BY value)
                WHEN 'p99' THEN percentile_cont(0.99) WITHIN GROUP (ORDER BY value)
            END AS value
            FROM check_samples
            WHERE check_name = $1 AND key = $2 AND ($3::text IS NULL OR target = $3)
              AND at > $4::timestamptz - $6::interval AND at <= $4
            GROUP BY target
            ORDER BY target
            """,
            m.check,
            m.key,
            m.target,
            now,
            m.aggregate,
            m.window,
        )
        if not rows:
            return None
        return [
            Sample(float(r["value"]) * m.scale, {"target": r["target"]} if r["target"] else {})
            for r in rows
        ]


@dataclass(frozen=True)
class UptimeSource:
    metric: UptimeMetric

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        row = await ctx.db.fetchrow(
            """
            SELECT count(*) AS total, count(*) FILTER (WHERE status <> 'crit') AS up
            FROM check_results
            WHERE name = $1 AND status <> 'unknown'
              AND at > $2::timestamptz - $3::interval AND at <= $2
            """,
            self.metric.check,
            now,
            self.metric.window,
        )
        if row is None or not row["total"]:
            return None
        return [Sample(100.0 * row["up"] / row["total"])]


@dataclass(frozen=True)
class UnreachableSource:
    metric: UnreachableMetric

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        rows = await ctx.db.fetch(
            """
            SELECT DISTINCT ON (name) name, (status = 'crit' AND error IS NOT NULL) AS down
            FROM check_results
            WHERE ($1::text IS NULL OR name = $1) AND status <> 'unknown'
              AND at > $2::timestamptz - $3::interval AND at <= $2
            ORDER BY name, at DESC, id DESC
            """,
            self.metric.check,
            now,
            self.metric.window,
        )
        if not rows:
            return None
        return [Sample(1.0 if r["down"] else 0.0, {"check": r["name"]}) for r in rows]


@dataclass(frozen=True)
class LogSource:
    metric: LogMetric

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        row = await ctx.db.fetchrow(
            """
            SELECT coalesce(sum(count) FILTER (WHERE kind = $1), 0) AS events,
                   coalesce(sum(count) FILTER (WHERE kind = 'line'), 0) AS lines
            FROM log_counts
            WHERE minute > $2::timestamptz - $3::interval AND minute <= $2
            """,
            self.metric.event,
            now,
            self.metric.window,
        )
        events = float(row["events"]) if row else 0.0
        if not self.metric.per_lines:
            return [Sample(events)]
        lines = float(row["lines"]) if row else 0.0
        if lines <= 0:
            return None
        return [Sample(100.0 * events / lines)]


@dataclass(frozen=True)
class SqlSource:
    metric: SqlMetric

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        db = ctx.db if self.metric.database == "own" else ctx.monitor_db
        if db is None:
            return None
        args: tuple[Any, ...] = (now,) if "$1" in self.metric.query else ()
        try:
            async with asyncio.timeout(self.metric.timeout_s):
                rows = await _read_only(db, self.metric.query, args)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise NoData(type(exc).__name__) from exc
        samples: list[Sample] = []
        for row in rows:
            value = row["value"]
            if value is None:
                continue
            labels = {k: str(v) for k, v in row.items() if k != "value" and v is not None}
            samples.append(Sample(float(value), labels))
        return samples or None


async def _read_only(db: Executor, query: str, args: tuple[Any, ...]) -> list[Any]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction(readonly=True):
            return list(await conn.fetch(query, *args))
    if isinstance(db, asyncpg.Connection):
        async with db.transaction(readonly=True):
            return list(await db.fetch(query, *args))
    return list(await db.fetch(query, *args))


def source_for(rule: AlertRule) -> MetricSource:
    metric = rule.metric
    if isinstance(metric, ProbeMetric):
        return ProbeSource(metric)
    if isinstance(metric, UptimeMetric):
        return UptimeSource(metric)
    if isinstance(metric, LogMetric):
        return LogSource(metric)
    if isinstance(metric, UnreachableMetric):
        return UnreachableSource(metric)
    return SqlSource(metric)
