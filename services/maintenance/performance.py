"""Performance analysis (the seed's PerformanceOptimizer, weekly): the slowest statements from
QuickCart's pg_stat_statements, and p95 response time and error-rate trends from stored
samples compared with last week."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from services.maintenance.trends import Trend, week_on_week
from services.results import as_json
from services.storage.types import Executor


class PerformancePolicy(BaseModel):
    """RULES_FILE `maintenance.performance`."""

    slowest: int = 10
    p95_warn_s: float = 2.0  # seed: response_time_p95 threshold 2.0 s
    error_rate_warn_percent: float = 1.0  # seed: error_rate threshold 1 %
    worse_by_percent: float = 20.0  # a trend this much worse than last week is called out


@dataclass
class PerformanceReview:
    statements_available: bool = False
    slowest: list[dict[str, Any]] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    worse: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return as_json(self)


_SLOWEST = """
SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query, calls,
       mean_exec_time / 1000.0 AS mean_s, total_exec_time / 1000.0 AS total_s
FROM pg_stat_statements
ORDER BY mean_exec_time DESC
LIMIT $1
"""


async def slowest_statements(url: str, limit: int) -> list[dict[str, Any]] | None:
    """None when pg_stat_statements is not installed (or not readable)."""
    conn = await asyncpg.connect(
        url, timeout=10, server_settings={"default_transaction_read_only": "on"}
    )
    try:
        present = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')"
        )
        if not present:
            return None
        try:
            rows = await conn.fetch(_SLOWEST, limit)
        except asyncpg.PostgresError:
            return None
        return [
            {
                "query": r["query"],
                "calls": int(r["calls"]),
                "mean_s": float(r["mean_s"]),
                "total_s": float(r["total_s"]),
            }
            for r in rows
        ]
    finally:
        await conn.close()


async def review(
    db: Executor, monitor_url: str | None, now: datetime, policy: PerformancePolicy
) -> PerformanceReview:
    result = PerformanceReview()
    if monitor_url:
        slowest = await slowest_statements(monitor_url, policy.slowest)
        result.statements_available = slowest is not None
        result.slowest = slowest or []
    result.trends = [
        await week_on_week(db, "p95_response_s", "payment", "gateway_latency_seconds", now, "p95"),
        await week_on_week(db, "error_rate_percent", "logs", "error_rate_percent", now),
        await week_on_week(db, "db_connections", "database", "connections", now),
    ]
    for trend in result.trends:
        if trend.this_week is None or trend.last_week is None or trend.last_week <= 0:
            continue
        if (trend.this_week - trend.last_week) * 100.0 / trend.last_week > policy.worse_by_percent:
            result.worse.append(trend.name)
    return result
