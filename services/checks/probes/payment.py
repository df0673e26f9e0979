"""Pakasir, QuickCart's payment gateway: reachability and latency of its API, and how
payments went in the last hour according to QuickCart's own database.

Pakasir documents no ping endpoint, so the probe asks `transactiondetail` about a known
order (PAKASIR_PROBE_ORDER_ID). The API key travels in the query string: no text built
here contains the URL.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg

from services.checks.model import Outcome, Status, Unit
from services.checks.probe import NotConfigured, ProbeContext, ProbeFailed
from services.checks.probes._common import Findings, judge, judge_low
from services.checks.probes._pg import describe_error, monitor_connection
from services.checks.units import fmt_duration, fmt_percent
from services.i18n import N_

GATEWAY_SETTINGS = (
    "PAKASIR_BASE_URL",
    "PAKASIR_PROJECT",
    "PAKASIR_API_KEY",
    "PAKASIR_PROBE_ORDER_ID",
)


def gateway_configured(ctx: ProbeContext) -> bool:
    t = ctx.targets
    return all((t.pakasir_base_url, t.pakasir_project, t.pakasir_api_key, t.pakasir_probe_order_id))


async def probe(ctx: ProbeContext) -> Outcome:
    has_gateway = gateway_configured(ctx)
    has_db = bool(ctx.targets.monitor_database_url)
    if not has_gateway and not has_db:
        raise NotConfigured(", ".join(GATEWAY_SETTINGS))
    found = Findings()
    budget = ctx.rules.timeout_for("payment") * 0.85  # leave room to report
    parts: list[Any] = []
    if has_gateway:
        parts.append(_gateway(ctx, found, budget))
    else:
        found.add(
            Status.UNKNOWN,
            N_("The gateway probe is not configured ({settings})."),
            settings=", ".join(GATEWAY_SETTINGS),
        )
    if has_db:
        parts.append(_statistics(ctx, found, budget))
    await asyncio.gather(*parts)
    latency = next((v.amount for v in found.values if v.key == "gateway_latency_seconds"), None)
    return found.outcome(
        N_("Pakasir answers in {latency}; payments look normal."),
        latency=fmt_duration(latency) if latency is not None else "-",
    )


async def _gateway(ctx: ProbeContext, found: Findings, timeout: float) -> None:
    t = ctx.targets
    assert t.pakasir_base_url is not None
    rules = ctx.rules.payment
    url = t.pakasir_base_url.rstrip("/") + "/api/transactiondetail"
    params = {
        "project": t.pakasir_project or "",
        "amount": str(rules.probe_amount),
        "order_id": t.pakasir_probe_order_id or "",
        "api_key": t.pakasir_api_key or "",
    }
    t0 = time.perf_counter()
    status_code = 0
    body: Any = None
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url, params=params, allow_redirects=False) as response,
        ):
            status_code = response.status
            if status_code < 300:
                body = await response.json(content_type=None)
    except TimeoutError:
        found.value("gateway_up", 0, Unit.COUNT)
        found.add(
            Status.CRIT,
            N_("Pakasir did not answer within {seconds}."),
            seconds=fmt_duration(timeout),
        )
        return
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        found.value("gateway_up", 0, Unit.COUNT)
        found.add(Status.CRIT, N_("Pakasir cannot be reached: {reason}"), reason=type(exc).__name__)
        return
    latency = found.value("gateway_latency_seconds", time.perf_counter() - t0, Unit.SECONDS)
    found.value("gateway_http_status", status_code, Unit.COUNT)
    if status_code >= 500:
        found.value("gateway_up", 0, Unit.COUNT)
        found.add(Status.CRIT, N_("Pakasir answers with HTTP {status}."), status=status_code)
        return
    found.value("gateway_up", 1, Unit.COUNT)
    if status_code >= 300:
        found.add(
            Status.WARN,
            N_(
                "Pakasir refused the probe with HTTP {status}: check PAKASIR_PROJECT, "
                "PAKASIR_API_KEY and PAKASIR_PROBE_ORDER_ID."
            ),
            status=status_code,
        )
        return
    if not isinstance(body, dict) or not isinstance(body.get("transaction"), dict):
        found.add(Status.WARN, N_("Pakasir answered, but not with a transaction."))
        return
    found.add(
        judge(latency, rules.latency_s),
        N_("Pakasir answered in {latency}."),
        latency=fmt_duration(latency),
    )


async def _statistics(ctx: ProbeContext, found: Findings, timeout: float) -> None:
    rules = ctx.rules.payment
    since = ctx.clock.now() - timedelta(minutes=rules.window_minutes)
    try:
        async with monitor_connection(
            ctx.targets.monitor_database_url, setting="MONITOR_DATABASE_URL", timeout=timeout
        ) as conn:
            row = await conn.fetchrow(rules.stats_sql, since)
            await _active_customers(conn, rules.active_customers_sql, ctx.clock.now(), found)
    except ProbeFailed as failed:
        found.problems.append((failed.status, failed.sentence))
        return
    except asyncpg.PostgresError as exc:
        found.add(
            Status.UNKNOWN,
            N_("The payment statistics query failed: {reason}"),
            reason=describe_error(exc),
        )
        return
    finished = int(row["finished"] or 0) if row else 0
    succeeded = int(row["succeeded"] or 0) if row else 0
    avg_seconds = row["avg_seconds"] if row else None
    found.value("payments_finished", finished, Unit.COUNT)
    if finished < max(rules.min_payments, 1):
        found.note(
            N_("No finished payments in the last {minutes} minutes."),
            minutes=rules.window_minutes,
        )
        return
    rate = found.value("success_rate_percent", succeeded * 100.0 / finished, Unit.PERCENT)
    found.add(
        judge_low(rate, rules.success_warn_percent, rules.success_crit_percent),
        N_("{rate} of {count} payments succeeded in the last {minutes} minutes."),
        rate=fmt_percent(rate),
        count=finished,
        minutes=rules.window_minutes,
    )
    if avg_seconds is not None:
        average = found.value("avg_payment_seconds", float(avg_seconds), Unit.SECONDS)
        found.add(
            judge(average, rules.avg_time_s),
            N_("A payment takes {duration} on average."),
            duration=fmt_duration(average),
        )


async def _active_customers(conn: Any, sql: str, now: Any, found: Findings) -> None:
    """QuickCart's customers active in the last day (the complaint rate's denominator);
    optional: a query that fails only leaves a note."""
    try:
        active = await conn.fetchval(sql, now)
    except asyncpg.PostgresError as exc:
        found.note(N_("Active customers are not counted: {reason}"), reason=describe_error(exc))
        return
    found.value("active_customers", int(active or 0), Unit.COUNT)
