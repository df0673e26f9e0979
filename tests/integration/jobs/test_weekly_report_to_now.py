"""/report weekly on a fresh install: the last 7 days up to now, with QuickCart's payments from
its own database (the demo one holds three weeks), and charts without data saying so instead of
drawing empty axes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from sandbox.world import demo_db
from services.reports.build import build

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 26, 14, 37, tzinfo=JAKARTA)  # a Thursday afternoon
IMAGES = r'src="data:image/png;base64,'


async def test_the_weekly_report_covers_the_last_seven_days_up_to_now(
    pool: asyncpg.Pool, empty_db_url: str
) -> None:
    from services.reports.quickcart import QuickCartDatabase  # new with this test

    await demo_db.seed(empty_db_url, NOW)

    data, report = await build(
        pool,
        "weekly",
        NOW,
        JAKARTA,
        language="en",
        to_now=True,
        quickcart=QuickCartDatabase(empty_db_url),
    )

    assert data.end == NOW
    assert data.start == datetime(2026, 11, 20, tzinfo=JAKARTA)  # today and the 6 days before
    assert "Weekly report 2026-11-20 – 2026-11-26 14:37" in report.headline
    days = dict(data.payment_by_day)
    assert len(days) == 7 and all(rate is not None for rate in days.values()), days
    assert all(80.0 <= rate <= 100.0 for rate in days.values() if rate is not None)
    assert "payments" in report.charts
    assert report.html.count(IMAGES) == len(report.charts)


async def test_a_chart_without_data_says_so(pool: asyncpg.Pool) -> None:
    """No QuickCart database and nothing stored yet: every figure is missing."""
    now = datetime.now(UTC).replace(microsecond=0)

    data, report = await build(pool, "weekly", now, JAKARTA, language="en", to_now=True)

    assert data.end - data.start < timedelta(days=7)
    assert report.charts == {}
    assert IMAGES not in report.html
    for chart in ("Uptime per day", "Incidents per week", "Payment success rate per day"):
        assert re.search(f"No data for “{chart}” in this period", report.html), chart


async def test_the_scheduled_weekly_report_keeps_the_complete_week(pool: asyncpg.Pool) -> None:
    data, _report = await build(pool, "weekly", NOW, JAKARTA, language="en")

    assert data.start == datetime(2026, 11, 19, tzinfo=JAKARTA)
    assert data.end == datetime(2026, 11, 26, tzinfo=JAKARTA)
