"""Database maintenance against a real "QuickCart" PostgreSQL: dry run lists, real run fixes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from jobs.context import JobDeps
from jobs.runner import run_now
from services.checks.config import Targets
from services.maintenance.database import DatabaseMaintenancePolicy, run_maintenance
from services.maintenance.runs import RunStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
POLICY = DatabaseMaintenancePolicy(min_bloat_bytes=256 * 1024, bloat_ratio=2.0)


@pytest.fixture
async def quickcart(empty_db_url: str) -> AsyncIterator[str]:
    """orders: many dead rows; sessions: an index bloated by a mass delete already vacuumed."""
    conn = await asyncpg.connect(empty_db_url)
    try:
        await conn.execute(
            """
            CREATE TABLE orders (id bigint PRIMARY KEY, note text)
                WITH (autovacuum_enabled = false);
            INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 20000) g;
            DELETE FROM orders WHERE id % 4 <> 0;
            CREATE TABLE sessions (id bigint, token text) WITH (autovacuum_enabled = false);
            INSERT INTO sessions SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
            CREATE INDEX sessions_token_idx ON sessions (token);
            DELETE FROM sessions WHERE id % 20 <> 0;
            """
        )
        # the DELETEs' counts reach the statistics before VACUUM resets them (PostgreSQL 15+)
        await conn.execute("SELECT pg_stat_force_next_flush()")
        await conn.execute("VACUUM sessions")
        await conn.execute("ANALYZE sessions")
        await conn.execute("SELECT pg_stat_force_next_flush()")
    finally:
        await conn.close()
    yield empty_db_url


async def _dead(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'orders'"
            )
        )
    finally:
        await conn.close()


async def _index_pages(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT pg_relation_size('sessions_token_idx') / 8192"))
    finally:
        await conn.close()


async def test_a_dry_run_lists_the_vacuum_and_the_reindex_and_changes_nothing(
    quickcart: str,
) -> None:
    pages = await _index_pages(quickcart)

    result = await run_maintenance(quickcart, POLICY, dry_run=True)

    assert [(a.kind, a.target) for a in result.planned] == [
        ("vacuum", "public.orders"),
        ("reindex", "public.sessions_token_idx"),
    ]
    assert result.planned[0].reason["dead"] == 15000
    assert result.done == []
    assert await _index_pages(quickcart) == pages
    assert await _dead(quickcart) == 15000


async def test_a_real_run_vacuums_and_rebuilds_the_bloated_index(quickcart: str) -> None:
    pages = await _index_pages(quickcart)

    result = await run_maintenance(quickcart, POLICY, dry_run=False)

    assert [(r.action.kind, r.ok) for r in result.done] == [("vacuum", True), ("reindex", True)]
    assert await _index_pages(quickcart) < pages / 3
    conn = await asyncpg.connect(quickcart)
    try:
        vacuumed = await conn.fetchval(
            "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'orders'"
        )
    finally:
        await conn.close()
    assert vacuumed
    again = await run_maintenance(quickcart, POLICY, dry_run=True)
    assert "public.sessions_token_idx" not in [a.target for a in again.planned]


async def test_the_job_only_changes_things_in_the_nightly_window(
    make_deps: Callable[..., JobDeps], quickcart: str
) -> None:
    rules = {"maintenance": {"database": POLICY.model_dump()}}
    targets = Targets(monitor_database_url=quickcart)
    afternoon = make_deps(
        datetime(2026, 11, 8, 14, 0, tzinfo=JAKARTA), rules=rules, targets=targets
    )

    outside = await run_now("database_maintenance", afternoon, triggered_by="cli")

    assert outside.status is RunStatus.SKIPPED
    assert outside.details["dry_run"] is True
    assert await _dead(quickcart) == 15000

    sunday_night = make_deps(
        datetime(2026, 11, 8, 2, 0, tzinfo=JAKARTA), rules=rules, targets=targets
    )
    inside = await run_now("database_maintenance", sunday_night, triggered_by="scheduler")

    assert inside.status is RunStatus.OK
    assert inside.details["allowed_by"] == "low_traffic"
    assert [d["kind"] for d in inside.details["done"]] == ["vacuum", "reindex"]


async def test_a_staff_confirmation_allows_it_outside_the_window(
    make_deps: Callable[..., JobDeps], quickcart: str
) -> None:
    deps = make_deps(
        datetime(2026, 11, 10, 14, 0, tzinfo=JAKARTA),
        rules={"maintenance": {"database": POLICY.model_dump()}},
        targets=Targets(monitor_database_url=quickcart),
    )

    run = await run_now("database_maintenance", deps, actor_id=42, confirmed=True)

    assert run.status is RunStatus.OK
    assert run.details["allowed_by"] == "confirmed"
