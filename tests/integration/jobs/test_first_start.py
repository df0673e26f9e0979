"""Nothing is missed before the first start: a brand-new install's first monthly reports do not
count the never-skip jobs' slots from before the bot existed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from jobs.context import JobDeps
from jobs.runner import run_scheduled
from tests.integration.jobs.conftest import ADMIN_CHAT

JAKARTA = ZoneInfo("Asia/Jakarta")
LAST_DAY_23H = datetime(2026, 11, 30, 23, 0, 5, tzinfo=JAKARTA)
FIRST_1ST_00H = datetime(2026, 12, 1, 0, 0, 5, tzinfo=JAKARTA)


async def _pushed(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT payload->>'text' AS text FROM outbox WHERE chat_id = $1 AND kind = 'text' "
        "ORDER BY id",
        ADMIN_CHAT,
    )
    return [r["text"] for r in rows]


async def test_a_brand_new_install_reports_no_missed_runs(
    pool: asyncpg.Pool, make_deps: Callable[..., JobDeps]
) -> None:
    compliance = await run_scheduled("compliance_report", make_deps(LAST_DAY_23H))
    monthly = await run_scheduled("monthly_maintenance", make_deps(FIRST_1ST_00H))

    assert compliance is not None and monthly is not None
    assert "missing" not in compliance.details
    assert compliance.status.value == "ok", compliance.summary
    tasks = {t["name"]: t for t in monthly.details["tasks"]}
    assert tasks["compliance_check"]["status"] == "ok", tasks["compliance_check"]
    assert not any("missing" in text.lower() for text in await _pushed(pool))
    assert not any(text.startswith("⚠️") for text in await _pushed(pool))


async def test_after_the_first_start_a_skipped_night_is_still_missed(
    pool: asyncpg.Pool, make_deps: Callable[..., JobDeps]
) -> None:
    """Installed ten days before the month's end; one backup verification did not run."""
    installed = LAST_DAY_23H - timedelta(days=10)
    await pool.execute(
        "INSERT INTO maintenance_runs (job, started_at, finished_at, status, triggered_by) "
        "VALUES ('health_check_report', $1, $1, 'ok', 'catch_up')",
        installed,
    )
    night = installed.replace(hour=4, minute=0, second=0) + timedelta(days=1)
    for day in range(10):
        if day == 4:
            continue  # the bot was down that night
        at = night + timedelta(days=day)
        await pool.execute(
            "INSERT INTO maintenance_runs (job, scheduled_for, started_at, finished_at, status, "
            "triggered_by) VALUES ('backup_verification', $1, $1, $1, 'ok', 'scheduler')",
            at,
        )

    run = await run_scheduled("compliance_report", make_deps(LAST_DAY_23H))

    assert run is not None
    # since the first start (Fri 20 Nov): ten nights, two Mondays, two Saturdays; none ran by
    # the slots of the weekly jobs, one night of the daily one
    assert run.details["missing"] == {
        "backup_verification": 1,
        "security_review": 2,
        "backup_restore_test": 2,
    }
