"""Quarterly deep maintenance (the seed's Q1–Q4 table): the checklist on the quarter's first
day, and the weekly reminder to the owners of open tasks."""

from __future__ import annotations

from jobs.context import JobContext
from services.i18n import gettext as _
from services.maintenance.runs import JobOutcome, RunStatus
from services.quarterly import actions
from services.quarterly.actions import QuarterContext
from services.quarterly.config import QuarterlyRules


def quarter_context(ctx: JobContext) -> QuarterContext:
    return QuarterContext(
        rules=ctx.deps.rules.section("quarterly", QuarterlyRules),
        tz=ctx.deps.tz,
        admin_chat_id=ctx.deps.admin_chat_id,
        default_locale=ctx.deps.default_locale,
    )


async def quarterly_checklist(ctx: JobContext) -> JobOutcome:
    """The quarter's first day: last quarter's report (what slipped), the new checklist."""
    started = await actions.start_quarter(ctx.deps.pool, ctx.deps.clock, quarter_context(ctx))
    summary = _("Quarter {quarter}: {created} tasks created.").format(
        quarter=started.quarter, created=started.created
    )
    if started.reported:
        summary += " " + _("Reports sent for {quarters}.").format(
            quarters=", ".join(started.reported)
        )
    details = {
        "quarter": started.quarter,
        "created": started.created,
        "reported": started.reported,
    }
    return JobOutcome(RunStatus.OK, summary, details)


async def quarterly_reminders(ctx: JobContext) -> JobOutcome:
    reminded = await actions.remind_owners(ctx.deps.pool, ctx.deps.clock, quarter_context(ctx))
    details = {
        "quarter": reminded.quarter,
        "open_tasks": reminded.open_tasks,
        "reminded": reminded.people,
    }
    if reminded.open_tasks == 0:
        return JobOutcome(RunStatus.OK, _("Every quarterly task is done."), details)
    return JobOutcome(
        RunStatus.OK,
        _("{tasks} quarterly tasks open; {people} owners reminded.").format(
            tasks=reminded.open_tasks, people=len(reminded.people)
        ),
        details,
    )
