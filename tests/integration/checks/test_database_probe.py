"""The database probe against a real PostgreSQL with a slow query, a blocked lock, an idle
transaction and a bloated table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.checks.model import Status
from services.checks.probes import database
from services.checks.probes._pg import monitor_connection
from services.checks.runner import run_checks, run_one
from tests.waiting import eventually

SENSITIVE = {"long_query_s": 0.0, "idle_in_transaction_s": 0.0}


Connect = Callable[[], Awaitable[asyncpg.Connection]]


@pytest.fixture
async def session(empty_db_url: str) -> AsyncIterator[Connect]:
    """`await session()`: a new session on the monitored database, terminated after the test."""
    opened: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        opened.append(await asyncpg.connect(empty_db_url))
        return opened[-1]

    yield connect
    for conn in opened:
        conn.terminate()


async def probe(make_ctx: Callable[..., Any], url: str, rules: dict[str, Any] | None = None) -> Any:
    """The database probe run once on `url` (the rules file's `rules`, if any): its result."""
    return await run_one("database", database.probe, make_ctx(rules, monitor_database_url=url))


def details(result: Any) -> str:
    return "\n".join(d.render() for d in result.details)


async def one_warning(
    make_ctx: Callable[..., Any], url: str, found: str, rules: dict[str, Any] | None = None
) -> str:
    """The probe run once warns, having found one of `found` (a value's key): its details."""
    result = await probe(make_ctx, url, rules)
    assert result.status is Status.WARN
    assert result.value(found) == 1
    return details(result)


async def test_a_quiet_database_is_ok_and_reports_its_connections(make_ctx, empty_db_url):
    result = await probe(make_ctx, empty_db_url)
    assert result.status is Status.OK, result.summary
    assert result.value("connections_max") and result.value("connections_max") >= 10
    assert result.value("connections_used") >= 1
    assert result.value("size_bytes") > 0
    assert result.value("long_queries") == 0


async def test_a_slow_query_is_reported_with_its_duration_and_text(make_ctx, empty_db_url, session):
    sleeper = await session()
    watcher = await session()
    task = asyncio.ensure_future(sleeper.execute("SELECT pg_sleep(30) /* nightly report */"))
    await eventually(
        "the slow query to run",
        lambda: watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%nightly report%' "
            "AND state = 'active' AND pid <> pg_backend_pid()"
        ),
    )
    text = await one_warning(make_ctx, empty_db_url, "long_queries", {"database": SENSITIVE})
    task.cancel()
    assert "SELECT pg_sleep(30) /* nightly report */" in text
    assert "running a query for" in text


async def test_a_blocked_lock_names_the_session_that_holds_it(make_ctx, empty_db_url, session):
    holder = await session()
    waiter = await session()
    watcher = await session()
    await holder.execute("CREATE TABLE stock (sku text PRIMARY KEY, qty int)")
    await holder.execute("INSERT INTO stock VALUES ('A-1', 5)")
    await holder.execute("BEGIN; UPDATE stock SET qty = 4 WHERE sku = 'A-1'")
    holder_pid = holder.get_server_pid()
    task = asyncio.ensure_future(waiter.execute("UPDATE stock SET qty = 3 WHERE sku = 'A-1'"))
    await eventually(
        "a session to wait for the lock",
        lambda: watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0"
        ),
    )
    rules = {"database": {"idle_in_transaction_s": 3600}}
    text = await one_warning(make_ctx, empty_db_url, "lock_waits", rules)
    task.cancel()
    assert f"for a lock held by PID {holder_pid}" in text
    assert f"PID {holder_pid} (idle in transaction) blocks others" in text


async def test_an_idle_transaction_is_a_warning(make_ctx, empty_db_url, session):
    idle = await session()
    await idle.execute("BEGIN; SELECT 42 AS forgotten")
    rules = {"database": SENSITIVE}
    text = await one_warning(make_ctx, empty_db_url, "idle_in_transaction", rules)
    assert "idle in a transaction" in text
    assert "SELECT 42 AS forgotten" in text


async def test_a_bloated_table_asks_for_vacuum(make_ctx, empty_db_url, session):
    conn = await session()
    await conn.execute("CREATE TABLE carts (id int) WITH (autovacuum_enabled = false)")
    await conn.execute("INSERT INTO carts SELECT generate_series(1, 5000)")
    await conn.execute("DELETE FROM carts WHERE id <= 4000")
    await conn.execute("SELECT pg_stat_force_next_flush()")
    await eventually(
        "the dead rows to be counted",
        lambda: conn.fetchval(
            "SELECT coalesce(sum(n_dead_tup), 0) >= 4000 FROM pg_stat_user_tables "
            "WHERE relname = 'carts'"
        ),
    )
    text = await one_warning(make_ctx, empty_db_url, "tables_needing_vacuum")
    assert "Table public.carts needs VACUUM: 4000 dead rows (80.0 %)." in text


async def test_the_probe_cannot_write_to_the_monitored_database(empty_db_url):
    async with monitor_connection(empty_db_url, setting="X", timeout=3) as conn:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("CREATE TABLE oops (id int)")


async def test_growth_per_day_comes_from_the_stored_samples(make_ctx, empty_db_url, pool, clock):
    ctx = make_ctx(db=pool, monitor_database_url=empty_db_url)
    await run_checks(ctx, ["database"])
    clock.advance(timedelta(days=1))
    conn = await asyncpg.connect(empty_db_url)
    await conn.execute(
        "CREATE TABLE grown AS SELECT repeat('x', 500) AS pad FROM generate_series(1, 4000)"
    )
    await conn.close()
    report = await run_checks(ctx, ["database"])
    growth = report.results[0].value("growth_bytes_per_day")
    assert growth is not None and growth > 1_000_000


async def test_an_unreachable_database_is_critical(make_ctx):
    result = await probe(make_ctx, "postgresql://nobody:pw@127.0.0.1:1/none")
    assert result.status is Status.CRIT
    assert result.summary.startswith("The database cannot be reached")
    assert "pw" not in result.summary
