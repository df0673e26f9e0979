"""The bot itself: its own database, its Redis and the outbox backlog."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from services.checks.model import Outcome, Sentence, Status, Unit
from services.checks.probe import NotConfigured, ProbeContext, ProbeFailed
from services.checks.probes._common import Findings, judge
from services.checks.units import fmt_duration, fmt_percent
from services.i18n import N_

_BACKLOG = """
SELECT count(*) AS pending,
       coalesce(extract(epoch FROM $1::timestamptz - min(not_before)), 0)::float8 AS oldest_s
FROM outbox
WHERE status IN ('pending', 'sending') AND not_before <= $1
"""
_FAILED = "SELECT count(*) FROM outbox WHERE status = 'failed' AND created_at >= $1"
# Customers' tickets (not the incidents staff raise in the admin chat) in the last day, and
# QuickCart's active customers as the payment check last counted them (within the hour).
_COMPLAINTS = """
SELECT (SELECT count(*) FROM tickets
        WHERE created_at > $1::timestamptz - interval '1 day' AND created_at <= $1
          AND channel <> 'admin_chat') AS complaints,
       (SELECT value FROM check_samples
        WHERE check_name = 'payment' AND key = 'active_customers'
          AND at > $1::timestamptz - interval '1 hour' AND at <= $1
        ORDER BY at DESC, id DESC LIMIT 1) AS active
"""


async def probe(ctx: ProbeContext) -> Outcome:
    if ctx.db is None:
        raise NotConfigured("DATABASE_URL")
    rules = ctx.rules.bot
    found = Findings()
    now = ctx.clock.now()
    t0 = time.perf_counter()
    try:
        row = await ctx.db.fetchrow(_BACKLOG, now)
    except Exception as exc:  # the bot's own store: any failure means nothing can be measured
        raise ProbeFailed(
            Sentence(N_("The bot's database fails: {reason}"), {"reason": type(exc).__name__}),
            Status.CRIT,
        ) from None
    found.value("db_latency_seconds", time.perf_counter() - t0, Unit.SECONDS)
    pending = found.value("outbox_backlog", row["pending"], Unit.COUNT)
    oldest = found.value("outbox_oldest_seconds", row["oldest_s"], Unit.SECONDS)
    found.add(
        judge(pending, rules.outbox_backlog),
        N_("{count} messages wait in the outbox."),
        count=int(pending),
    )
    if pending:
        found.add(
            judge(oldest, rules.outbox_oldest_s),
            N_("The oldest waits for {duration}."),
            duration=fmt_duration(oldest),
        )
    failed = await ctx.db.fetchval(_FAILED, now - timedelta(hours=1))
    found.value("outbox_failed_last_hour", failed, Unit.COUNT)
    if failed:
        found.note(N_("{count} messages failed permanently in the last hour."), count=failed)
    await _redis(ctx.redis, found)
    await _complaints(ctx, found, now)
    return found.outcome(
        N_("The bot's database and Redis answer; {count} messages in the outbox."),
        count=int(pending),
    )


async def _redis(client: Any, found: Findings) -> None:
    if client is None:
        found.add(Status.UNKNOWN, N_("The bot's Redis is not connected."))
        return
    t0 = time.perf_counter()
    try:
        await client.ping()
    except Exception as exc:  # any failure of the bot's own Redis is the finding
        found.value("redis_up", 0, Unit.COUNT)
        found.add(Status.CRIT, N_("The bot's Redis fails: {reason}"), reason=type(exc).__name__)
        return
    found.value("redis_up", 1, Unit.COUNT)
    found.value("redis_latency_seconds", time.perf_counter() - t0, Unit.SECONDS)


async def _complaints(ctx: ProbeContext, found: Findings, now: Any) -> None:
    """The user complaint rate: the desk's customer tickets in the last 24 h per active QuickCart
    customer, as the payment check last counted them within the hour (seed: user_complaint_rate
    0.1 %, alert > 0.5 %). Without that count the rate is not measured."""
    assert ctx.db is not None
    row = await ctx.db.fetchrow(_COMPLAINTS, now)
    if row is None or row["active"] is None or int(row["active"]) <= 0:
        return
    complaints, active = int(row["complaints"]), int(row["active"])
    found.value("complaints", complaints, Unit.COUNT)
    rate = found.value("complaint_rate_percent", complaints * 100.0 / active, Unit.PERCENT)
    found.add(
        judge(rate, ctx.rules.bot.complaint_rate_percent),
        N_("{count} customer tickets in 24 h for {active} active customers: {rate}."),
        count=complaints,
        active=active,
        rate=fmt_percent(rate),
    )
