"""The monthly jobs (and the weekly report): reports and the seed's MonthlyMaintenance."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from jobs import monthly_reviews, weekly
from jobs.context import JobContext
from jobs.schedule import slots_between
from services import chats
from services.i18n import gettext as _
from services.maintenance import monthly, runs
from services.maintenance.runs import JobOutcome, RunStatus
from services.reports import outbound as report_outbound
from services.reports.build import build as build_report
from services.reports.build import quickcart_database


async def _report(
    ctx: JobContext, kind: Literal["weekly", "monthly"], *, with_file: bool = True
) -> JobOutcome:
    target = ctx.deps.maintenance().uptime_target_percent
    data, rendered = await build_report(
        ctx.deps.pool,
        kind,
        ctx.now,
        ctx.deps.tz,
        uptime_target=target,
        language=await chats.chat_language(
            ctx.deps.pool, ctx.deps.admin_chat_id, ctx.deps.default_locale
        ),
        quickcart=quickcart_database(ctx.deps.targets, ctx.deps.checks()),
    )
    if ctx.deps.admin_chat_id is not None:
        await report_outbound.send(
            ctx.deps.pool,
            ctx.deps.admin_chat_id,
            rendered,
            dedup=f"report:{ctx.run_id}",
            with_file=with_file,
        )
    uptime = "-" if data.uptime_percent is None else f"{data.uptime_percent:.2f} %"
    summary = _("Report {name} sent: uptime {uptime}, {incidents} incidents.").format(
        name=rendered.filename, uptime=uptime, incidents=data.incidents_total
    )
    status = RunStatus.WARN if data.uptime_met is False else RunStatus.OK
    details = {
        "filename": rendered.filename,
        "uptime_percent": data.uptime_percent,
        "incidents": data.incidents_total,
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
    }
    return JobOutcome(status, summary, details)


async def weekly_report(ctx: JobContext) -> JobOutcome:
    return await _report(ctx, "weekly")


async def compliance_report(ctx: JobContext) -> JobOutcome:
    """Last day, 23:00: the month's figures against the promises (uptime, SLA) and whether
    every never-skip job ran. The full HTML report follows with monthly maintenance on the 1st."""
    figures = await _report(ctx, "monthly", with_file=False)
    check = await compliance_check(ctx)
    status = RunStatus.WARN if RunStatus.WARN in (figures.status, check.status) else RunStatus.OK
    return JobOutcome(
        status,
        f"{figures.summary}\n{check.summary}",
        {**figures.details, **check.details},
    )


# The seed's closing note: "Never skip security reviews or backup verifications."
NEVER_SKIP = ("backup_verification", "security_review", "backup_restore_test")


async def compliance_check(ctx: JobContext) -> JobOutcome:
    """Every slot of the never-skip jobs in the last 30 days has a successful run.

    Only slots after the installation's first start count: nothing was missed before the bot
    existed (a brand-new install has not skipped last month's backup verifications)."""
    schedule = ctx.deps.schedule()
    since = ctx.now - timedelta(days=30)
    first_start = await runs.first_started_at(ctx.deps.pool)
    since = max(since, first_start or ctx.now)
    missing: dict[str, int] = {}
    for name in NEVER_SKIP:
        slots = slots_between(schedule[name], ctx.deps.tz, since, ctx.now)
        done = [
            r
            for r in await runs.history(ctx.deps.pool, name, limit=100)
            if r.started_at >= since and r.status in (RunStatus.OK, RunStatus.WARN)
        ]
        if len(done) < len(slots):
            missing[name] = len(slots) - len(done)
    if missing:
        listed = ", ".join(f"{k} ({v})" for k, v in missing.items())
        return JobOutcome(
            RunStatus.WARN,
            _("Runs missing in the last 30 days: {listed}").format(listed=listed),
            {"missing": missing},
        )
    return JobOutcome(RunStatus.OK, _("Every backup verification and security review ran."), {})


async def database_optimization(ctx: JobContext) -> JobOutcome:
    """Monthly: the database maintenance plan; changes only inside a window (else a dry run)."""
    return await weekly.database_maintenance(ctx)


async def monthly_maintenance(ctx: JobContext) -> JobOutcome:
    tasks = {
        "security_audit": lambda: weekly.security_review(ctx, days=30),
        "performance_optimization": lambda: weekly.performance_analysis(ctx),
        "fraud_model_update": lambda: monthly_reviews.fraud_model_update(ctx),
        "database_optimization": lambda: database_optimization(ctx),
        "documentation_review": lambda: monthly_reviews.documentation_review(ctx),
        "compliance_check": lambda: compliance_check(ctx),
    }
    results = await monthly.run_concurrently(tasks)
    status = monthly.overall(results)
    report = await _report(ctx, "monthly")  # the seed's generate_maintenance_report(results)
    lines = [f"{r.name}: {r.status.value}" + (f" ({r.error})" if r.error else "") for r in results]
    summary = _("Monthly maintenance: {lines}").format(lines="; ".join(lines))
    details = {"tasks": [r.to_json() for r in results], "report": report.details}
    return JobOutcome(status, f"{summary}\n{report.summary}", details)
