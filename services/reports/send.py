"""Build a report and queue it for the admin chat: the headline message, then the HTML file."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services import outbox
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


async def send(
    db: Executor,
    chat_id: int,
    report: RenderedReport,
    *,
    dedup: str | None = None,
    with_file: bool = True,
) -> list[int | None]:
    """Two outbox rows: the headline (HTML text) and the report as a document."""
    text_id = await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=chat_id,
            kind="text",
            payload={"text": report.headline, "parse_mode": "HTML"},
            dedup_key=f"{dedup}:text" if dedup else None,
            owner="report",
            priority=outbox.PRIORITY_REPORT,
        ),
    )
    if not with_file:
        return [text_id]
    doc_id = await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=chat_id,
            kind="document",
            payload={
                "document": {
                    "base64": base64.b64encode(report.html.encode("utf-8")).decode("ascii"),
                    "filename": report.filename,
                },
            },
            dedup_key=f"{dedup}:document" if dedup else None,
            owner="report",
            priority=outbox.PRIORITY_REPORT,
        ),
    )
    return [text_id, doc_id]
