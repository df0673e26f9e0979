"""Migrations: idempotent, locked against concurrent starts, and checksummed."""

from __future__ import annotations

import asyncio

import pytest

from services.storage.db import Migration, MigrationError, connect, load_migrations, migrate


async def test_a_fresh_database_gets_every_migration_once(empty_db_url: str) -> None:
    conn = await connect(empty_db_url)
    try:
        first = await migrate(conn)
        second = await migrate(conn)
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()

    assert first == [f"{m.version:04d}_{m.name}" for m in load_migrations()]
    assert second == []
    assert [r["version"] for r in versions] == [m.version for m in load_migrations()]


async def test_two_replicas_starting_together_apply_each_migration_once(
    empty_db_url: str,
) -> None:
    conns = [await connect(empty_db_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        for c in conns:
            await c.close()

    applied = [name for result in results for name in result]
    assert sorted(applied) == sorted(f"{m.version:04d}_{m.name}" for m in load_migrations())
    assert count == len(load_migrations())


async def test_a_changed_applied_migration_is_an_error(empty_db_url: str) -> None:
    original = [Migration(1, "first", "CREATE TABLE a (x int);")]
    edited = [Migration(1, "first", "CREATE TABLE a (x bigint);")]
    conn = await connect(empty_db_url)
    try:
        await migrate(conn, original)
        with pytest.raises(MigrationError, match="was changed after it was applied"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_done(empty_db_url: str) -> None:
    broken = [
        Migration(1, "good", "CREATE TABLE good (x int);"),
        Migration(2, "bad", "CREATE TABLE half (x int); SELECT no_such_function();"),
    ]
    conn = await connect(empty_db_url)
    try:
        with pytest.raises(Exception, match="no_such_function"):
            await migrate(conn, broken)
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE tablename IN ('good', 'half')"
        )
        recorded = await conn.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await conn.close()

    assert [t["tablename"] for t in tables] == ["good"]
    assert recorded == 1
