"""Giving a pooled connection back costs no round trip unless its session changed: asyncpg's
full reset (pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL) used to run on every
release. A connection marked with `session_changed` (a session lock, a LISTEN) still gets it."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.storage.db import create_pool, session_changed


async def test_a_plain_release_sends_nothing_and_a_changed_session_is_reset(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=1)
    queries: list[str] = []

    def logged(record: Any) -> None:
        queries.append(record.query)

    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(logged)
            await conn.fetchval("SELECT 1")
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(7)")
        assert queries == ["SELECT 1", "BEGIN;", "SELECT pg_advisory_xact_lock(7)", "COMMIT;"]

        queries.clear()
        async with pool.acquire() as conn:
            session_changed(conn)
            await conn.execute("SELECT pg_advisory_lock(42)")
            await conn.execute("LISTEN somewhere")
            pid = conn.get_server_pid()
        assert any("pg_advisory_unlock_all" in q for q in queries)

        other = await asyncpg.connect(db_url)
        try:
            held = await other.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", pid
            )
            listening = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'LISTEN%'",
                pid,
            )
        finally:
            await other.close()
        assert held == 0 and listening == 0

        queries.clear()
        async with pool.acquire() as conn:  # reset once: marked no longer
            await conn.fetchval("SELECT 2")
        assert queries == ["SELECT 2"]
    finally:
        await pool.close()
