"""Figures the reports read from QuickCart's own database (MONITOR_DATABASE_URL), which holds the
payments and fraud reviews of any period, also from before the bot started watching it.

The queries are the health checks' (RULES_FILE `checks.payment.daily_sql`,
`checks.fraud.false_positive_period_sql`, `checks.fraud.queue_sql`), run read-only and
time-boxed. A query that fails leaves its figure to the bot's own samples; the report is built
either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from loguru import logger

from services.checks.config import ChecksRules
from services.checks.probe import ProbeFailed
from services.checks.probes._pg import describe_error, monitor_connection


@dataclass(frozen=True)
class QuickCartDatabase:
    """Where QuickCart's figures are, and the checks' rules that hold its queries."""

    url: str
    rules: ChecksRules = field(default_factory=ChecksRules)
    timeout_s: float = 15.0


@dataclass
class QuickCartFigures:
    payment_by_day: dict[date, float] = field(default_factory=dict)  # success rate, percent
    false_positive_percent: float | None = None
    review_queue: float | None = None  # only for a report that runs up to now


async def read(
    source: QuickCartDatabase, start: datetime, end: datetime, tz: ZoneInfo, *, current: bool
) -> QuickCartFigures:
    """The period's figures; `current`: the period ends now, so today's queue belongs in it."""
    figures = QuickCartFigures()
    try:
        async with monitor_connection(
            source.url, setting="MONITOR_DATABASE_URL", timeout=source.timeout_s
        ) as conn:
            rows = await _query(conn, source.rules.payment.daily_sql, start, end, str(tz))
            for row in rows or []:
                finished, succeeded = int(row["finished"] or 0), int(row["succeeded"] or 0)
                if finished > 0:
                    figures.payment_by_day[row["day"]] = succeeded * 100.0 / finished
            rows = await _query(conn, source.rules.fraud.false_positive_period_sql, start, end)
            if rows:
                false_positives, reviewed = int(rows[0][0] or 0), int(rows[0][1] or 0)
                if reviewed > 0:
                    figures.false_positive_percent = false_positives * 100.0 / reviewed
            if current:
                rows = await _query(conn, source.rules.fraud.queue_sql)
                if rows and rows[0][0] is not None:
                    figures.review_queue = float(rows[0][0])
    except ProbeFailed as failed:
        logger.warning("the report reads no figures of QuickCart's database: {}", failed)
    return figures


async def _query(conn: asyncpg.Connection, sql: str, *args: Any) -> list[Any] | None:
    try:
        return list(await conn.fetch(sql, *args))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        logger.warning("a report query on QuickCart's database failed: {}", describe_error(exc))
        return None
