"""The database probe names the slowest statements when QuickCart's server has
pg_stat_statements (a server of its own here: the extension needs shared_preload_libraries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.embedded import EmbeddedPostgres, start_postgres
from services.checks.probes import database
from services.checks.runner import run_one
from tests.conftest import scratch_dir


@pytest.fixture
async def statements_server() -> AsyncIterator[str]:
    # Not under pytest's tmp_path: PostgreSQL runs as its own user, who cannot enter those.
    data = scratch_dir("qc-pgss-") / "pgdata"
    server: EmbeddedPostgres = await asyncio.to_thread(start_postgres, data, delete_on_stop=False)
    conn = await asyncpg.connect(server.url)
    await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    await conn.close()
    await asyncio.to_thread(server.stop)  # the library loads only at start
    server = await asyncio.to_thread(start_postgres, data, delete_on_stop=True)
    conn = await asyncpg.connect(server.url)
    await conn.execute("CREATE EXTENSION pg_stat_statements")
    await conn.close()
    yield server.url
    await asyncio.to_thread(server.stop)


async def test_the_slowest_statements_are_listed_when_pg_stat_statements_exists(
    make_ctx, statements_server: str
) -> None:
    conn = await asyncpg.connect(statements_server)
    try:
        for _ in range(3):
            await conn.execute("SELECT pg_sleep(0.2) FROM (SELECT 1) AS the_slow_report")
    finally:
        await conn.close()

    result = await run_one(
        "database", database.probe, make_ctx(monitor_database_url=statements_server)
    )

    notes = [d.render() for d in result.details]
    slow = [n for n in notes if "the_slow_report" in n]
    assert slow, notes
    assert slow[0].startswith("Slow statement: 2") and "over 3 calls" in slow[0]
