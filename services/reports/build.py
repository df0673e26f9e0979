"""A report built: the period's figures (with QuickCart's own when its database is set) and
the report rendered in a language. outbound.py queues it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services.checks.config import ChecksRules, Targets
from services.i18n import use_locale
from services.insights.figures import collect as collect_insights
from services.reports.data import ReportData, collect, period
from services.reports.quickcart import QuickCartDatabase
from services.reports.quickcart import read as read_quickcart
from services.reports.render import RenderedReport, render
from services.storage.types import Executor


def quickcart_database(targets: Targets, rules: ChecksRules) -> QuickCartDatabase | None:
    """QuickCart's database as the reports read it, when MONITOR_DATABASE_URL is set."""
    url = targets.monitor_database_url
    return QuickCartDatabase(url, rules) if url else None


async def build(
    db: Executor,
    kind: Literal["weekly", "monthly"],
    now: datetime,
    tz: ZoneInfo,
    *,
    uptime_target: float = 99.5,
    language: str | None = None,
    to_now: bool = False,
    quickcart: QuickCartDatabase | None = None,
) -> tuple[ReportData, RenderedReport]:
    """The report of the period `kind` names (see `period`; `to_now`: up to `now`), with
    QuickCart's own payment and fraud figures when its database is given."""
    start, end = period(kind, now, tz, to_now=to_now)
    figures = None
    if quickcart is not None:
        figures = await read_quickcart(quickcart, start, end, tz, current=end >= now)
    data = await collect(db, kind, start, end, tz, uptime_target=uptime_target, quickcart=figures)
    data.insights = await collect_insights(db, start, end, str(tz))
    with use_locale(language):
        return data, render(data)
