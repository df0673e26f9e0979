"""QuickCart's JSON log files (LOG_FILES): error rate, fraud and security events, top errors.

New lines are tallied per minute into PostgreSQL (log_counts, log_error_messages) together
with the file offsets, in one transaction under an advisory lock, so two runs at once never
count a line twice; the window's figures are then read from those tallies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

import asyncpg

from services.checks.config import LogRules
from services.checks.logreader import (
    Classifier,
    Offset,
    Tally,
    matched_files,
    p95,
    plan,
    read_all,
)
from services.checks.model import Outcome, Status, Unit
from services.checks.probe import NotConfigured, ProbeContext
from services.checks.probes._common import Findings, judge
from services.checks.units import fmt_percent
from services.i18n import N_
from services.storage.db import transaction
from services.storage.types import Executor

INGEST_LOCK_KEY = 0x5143_0605  # "QC" + issue 6 + 5: one log ingestion at a time


@asynccontextmanager
async def _transaction(db: Executor) -> AsyncIterator[Any]:
    if isinstance(db, asyncpg.Pool):
        async with transaction(db) as conn:
            yield conn
    else:
        single = cast(asyncpg.Connection, db)
        async with single.transaction():
            yield single


def _classifier(rules: LogRules) -> Classifier:
    return Classifier(
        error_levels=frozenset(level.lower() for level in rules.error_levels),
        fraud_events=frozenset(rules.fraud_events),
        security_events=frozenset(rules.security_events),
    )


async def ingest(db: Executor, globs: list[str], rules: LogRules, now: datetime) -> Tally | None:
    """Read what is new in the files; what they said, or None when another run is at it."""
    async with _transaction(db) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", INGEST_LOCK_KEY):
            return None
        rows = await conn.fetch("SELECT path, device, inode, position FROM log_offsets")
        offsets = [Offset(r["path"], r["device"], r["inode"], r["position"]) for r in rows]
        files = await asyncio.to_thread(matched_files, globs)
        reads, identities = await asyncio.to_thread(
            plan, files, offsets, cap=rules.max_bytes_per_run
        )
        tally, positions = await asyncio.to_thread(read_all, reads, _classifier(rules), now)
        if tally.counts:
            keys = list(tally.counts)
            await conn.execute(
                """
                INSERT INTO log_counts (minute, kind, count)
                SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int[])
                ON CONFLICT (minute, kind) DO UPDATE SET count = log_counts.count + excluded.count
                """,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [tally.counts[k] for k in keys],
            )
        if tally.messages:
            keys = list(tally.messages)
            await conn.execute(
                """
                INSERT INTO log_error_messages (minute, message, count)
                SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::int[])
                ON CONFLICT (minute, message)
                DO UPDATE SET count = log_error_messages.count + excluded.count
                """,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [tally.messages[k] for k in keys],
            )
        paths = list(identities)
        await conn.execute("DELETE FROM log_offsets WHERE NOT (path = ANY($1::text[]))", paths)
        if paths:
            await conn.execute(
                """
                INSERT INTO log_offsets (path, device, inode, position, updated_at)
                SELECT p, d, i, pos, $5 FROM unnest($1::text[], $2::bigint[], $3::bigint[],
                                                 $4::bigint[]) AS u(p, d, i, pos)
                ON CONFLICT (path) DO UPDATE SET device = excluded.device,
                    inode = excluded.inode, position = excluded.position,
                    updated_at = excluded.updated_at
                """,
                paths,
                [identities[p][0] for p in paths],
                [identities[p][1] for p in paths],
                [positions.get(p, identities[p][2]) for p in paths],
                now,
            )
        return tally


async def _window(db: Executor, since: datetime) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT kind, sum(count)::bigint AS n FROM log_counts WHERE minute >= $1 GROUP BY kind",
        since,
    )
    return {r["kind"]: int(r["n"]) for r in rows}


async def _top_errors(db: Executor, since: datetime, limit: int) -> list[Any]:
    return list(
        await db.fetch(
            """
            SELECT message, sum(count)::bigint AS n FROM log_error_messages
            WHERE minute >= $1 GROUP BY message ORDER BY n DESC, message LIMIT $2
            """,
            since,
            limit,
        )
    )


async def probe(ctx: ProbeContext) -> Outcome:
    globs = ctx.targets.log_globs()
    if not globs:
        raise NotConfigured("LOG_FILES")
    if ctx.db is None:
        raise NotConfigured("DATABASE_URL")
    rules = ctx.rules.logs
    now = ctx.clock.now()
    found = Findings()
    tally = await ingest(ctx.db, globs, rules, now)
    if tally is not None:
        found.value("bytes_read", tally.bytes_read, Unit.BYTES)
        slowest = p95(tally.durations)
        if slowest is not None:  # QuickCart's requests logged since the last run
            found.value("response_time_p95_seconds", slowest, Unit.SECONDS)
    window = await _window(ctx.db, now - timedelta(minutes=rules.window_minutes))
    fraud = (await _window(ctx.db, now - timedelta(minutes=rules.fraud_window_minutes))).get(
        "fraud", 0
    )
    lines = found.value("lines", window.get("line", 0), Unit.COUNT)
    errors = found.value("errors", window.get("error", 0), Unit.COUNT)
    rate = found.value("error_rate_percent", errors * 100.0 / lines if lines else 0, Unit.PERCENT)
    found.value("fraud_events", fraud, Unit.COUNT)
    security = found.value("security_events", window.get("security", 0), Unit.COUNT)
    minutes = rules.window_minutes
    if lines:
        found.add(
            judge(rate, rules.error_rate_percent),
            N_("{rate} of {lines} log lines in the last {minutes} minutes are errors."),
            rate=fmt_percent(rate),
            lines=int(lines),
            minutes=minutes,
        )
    if fraud >= rules.fraud_crit:
        found.add(
            Status.CRIT,
            N_("{count} fraud_detected events in the last {minutes} minutes."),
            count=fraud,
            minutes=rules.fraud_window_minutes,
        )
    if security >= rules.security_warn:
        found.add(
            Status.WARN,
            N_("{count} security events in the last {minutes} minutes."),
            count=int(security),
            minutes=minutes,
        )
    for row in await _top_errors(ctx.db, now - timedelta(minutes=minutes), rules.top_errors):
        found.note(N_("{count}× {message}"), count=row["n"], message=row["message"])
    return found.outcome(
        N_(
            "{lines} log lines in the last {minutes} minutes: {errors} errors, {fraud} fraud, "
            "{security} security events."
        ),
        lines=int(lines),
        minutes=minutes,
        errors=int(errors),
        fraud=fraud,
        security=int(security),
    )
