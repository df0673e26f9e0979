"""Fraud review: the manual review queue and the false-positive rate (configurable SQL)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.checks.config import FraudRules
from services.checks.model import Outcome, Unit
from services.checks.probe import ProbeContext
from services.checks.probes._common import Findings, judge, judge_low
from services.checks.probes._pg import answer, monitor_connection
from services.checks.units import fmt_percent
from services.i18n import N_


async def probe(ctx: ProbeContext) -> Outcome:
    rules = ctx.rules.fraud
    found = Findings()
    since = ctx.clock.now() - timedelta(days=rules.window_days)
    async with monitor_connection(
        ctx.targets.monitor_database_url,
        setting="MONITOR_DATABASE_URL",
        timeout=ctx.rules.timeout_for("fraud"),
    ) as conn:
        queue = await answer(
            found, _count(conn, rules.queue_sql), N_("The review queue query failed: {reason}")
        )
        row = await answer(
            found,
            conn.fetchrow(rules.false_positive_sql, since),
            N_("The false-positive query failed: {reason}"),
        )
        # optional: a schema without chargebacks (or the rules' query) measures no rate
        detection = await answer(
            found,
            conn.fetchrow(rules.detection_rate_sql, since),
            N_("The detection rate is not measured: {reason}"),
            optional=True,
        )
    if queue is not None:
        found.value("review_queue", queue, Unit.COUNT)
        found.add(
            judge(queue, rules.queue),
            N_("{count} payments wait for manual fraud review."),
            count=queue,
        )
    rate_text = "-"
    if row is not None:
        false_positives, reviewed = int(row[0] or 0), int(row[1] or 0)
        found.value("reviewed", reviewed, Unit.COUNT)
        if reviewed > 0:
            rate = found.value(
                "false_positive_percent", false_positives * 100.0 / reviewed, Unit.PERCENT
            )
            rate_text = fmt_percent(rate)
            found.add(
                judge(rate, rules.false_positive_percent),
                N_("{rate} of {count} reviewed cases in {days} days were false positives."),
                rate=rate_text,
                count=reviewed,
                days=rules.window_days,
            )
    if detection is not None:
        _detection(found, int(detection[0] or 0), int(detection[1] or 0), rules)
    return found.outcome(
        N_("{count} in the review queue; false positives {rate}."),
        count=queue or 0,
        rate=rate_text,
    )


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql) or 0)


def _detection(found: Findings, caught: int, missed: int, rules: FraudRules) -> None:
    """The share of fraud the rules caught (seed: fraud_detection_rate 95 %, alert < 90 %)."""
    if caught + missed == 0:
        return
    rate = found.value("detection_rate_percent", caught * 100.0 / (caught + missed), Unit.PERCENT)
    found.add(
        judge_low(rate, rules.detection_rate_percent.warn, rules.detection_rate_percent.crit),
        N_("The fraud rules caught {rate} of the fraud in {days} days ({missed} got through)."),
        rate=fmt_percent(rate),
        days=rules.window_days,
        missed=missed,
    )
