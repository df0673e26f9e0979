"""Orphaned data cleanup in the weekly database maintenance, on the sandbox's demo database
with its own orphan queries: the scheduled Sunday run counts the abandoned orders (a dry run,
recorded) and asks the admin chat for a confirmation; the confirmed run deletes them in batches
of 20 and records how many; inside a maintenance window no confirmation is needed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from jobs.context import JobDeps
from jobs.runner import run_now, run_scheduled
from sandbox.world import demo_db
from services.checks.config import Targets

from .conftest import ADMIN_CHAT

JAKARTA = ZoneInfo("Asia/Jakarta")
ABANDONED = 55  # one a day, older than a week, in the demo's two months


def rules() -> dict[str, object]:
    return {"orphans": {"queries": demo_db.ORPHAN_QUERIES}}


async def orphans_left(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(demo_db.ORPHAN_QUERIES[0]["count_sql"]))
    finally:
        await conn.close()


def sunday_two_am() -> datetime:
    """The slot of database maintenance (Sunday 02:00 Jakarta) at or before now."""
    now = datetime.now(JAKARTA)
    day = now - timedelta(days=(now.weekday() - 6) % 7)
    slot = day.replace(hour=2, minute=0, second=5, microsecond=0)
    return slot if slot <= now else slot - timedelta(days=7)


async def test_counted_on_schedule_deleted_in_batches_after_confirmation(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, empty_db_url: str
) -> None:
    await demo_db.seed(empty_db_url, datetime.now(UTC))
    assert await orphans_left(empty_db_url) == ABANDONED
    targets = Targets(monitor_database_url=empty_db_url)
    deps = make_deps(sunday_two_am(), targets=targets, rules=rules())

    run = await run_scheduled("database_maintenance", deps)
    assert run is not None
    found = run.details["orphans"]
    assert found == {
        "deleting": False,
        "found": ABANDONED,
        "deleted": 0,
        "queries": [
            {
                "name": "orders_without_payment",
                "found": ABANDONED,
                "deleted": 0,
                "batches": 0,
                "error": None,
            }
        ],
    }
    assert f"Orphaned rows: {ABANDONED} found (orders_without_payment {ABANDONED})" in run.summary
    assert await orphans_left(empty_db_url) == ABANDONED  # low-traffic hours are not enough
    asked = await pool.fetchrow(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND dedup_key LIKE '%:orphans'", ADMIN_CHAT
    )
    assert asked is not None and f"{ABANDONED} orphaned rows" in asked["payload"]["text"]
    buttons = [b["callback_data"] for b in asked["payload"]["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["mj:run:database_maintenance", "mj:no:database_maintenance"]

    # Rina presses "Run it now": the job runs again, confirmed.
    run = await run_now("database_maintenance", deps, actor_id=7001, confirmed=True)
    deleted = run.details["orphans"]
    assert (deleted["deleting"], deleted["found"], deleted["deleted"]) == (
        True,
        ABANDONED,
        ABANDONED,
    )
    assert deleted["queries"][0]["batches"] == 3  # 20 + 20 + 15
    assert await orphans_left(empty_db_url) == 0
    conn = await asyncpg.connect(empty_db_url)
    try:  # the last week's abandoned orders may still be paid: left alone, as is the rest
        assert await conn.fetchval("SELECT count(*) FROM orders WHERE status = 'pending'") == 6
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM fraud_reviews f LEFT JOIN orders o ON o.id = f.order_id"
                " WHERE o.id IS NULL"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_a_maintenance_window_deletes_without_asking(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, empty_db_url: str
) -> None:
    await demo_db.seed(empty_db_url, datetime.now(UTC))
    now = datetime.now(UTC)
    await pool.execute(
        "INSERT INTO maintenance_windows (starts_at, ends_at, created_at) VALUES ($1, $2, $1)",
        now - timedelta(minutes=5),
        now + timedelta(hours=1),
    )
    deps = make_deps(now, targets=Targets(monitor_database_url=empty_db_url), rules=rules())
    run = await run_now("database_maintenance", deps)
    assert run.details["orphans"]["deleted"] == ABANDONED
    assert await orphans_left(empty_db_url) == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE dedup_key LIKE '%:orphans'") == 0


async def test_a_broken_orphan_query_is_recorded_and_the_others_run(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, empty_db_url: str
) -> None:
    await demo_db.seed(empty_db_url, datetime.now(UTC))
    broken = {"name": "nope", "count_sql": "SELECT count(*) FROM no_such_table", "delete_sql": "-"}
    queries = {"orphans": {"queries": [broken, *demo_db.ORPHAN_QUERIES]}}
    deps = make_deps(
        datetime.now(UTC), targets=Targets(monitor_database_url=empty_db_url), rules=queries
    )
    run = await run_now("database_maintenance", deps, confirmed=True)
    results = run.details["orphans"]["queries"]
    assert results[0]["error"].startswith("UndefinedTableError")
    assert results[1]["deleted"] == ABANDONED
    assert run.status.value == "warn"
