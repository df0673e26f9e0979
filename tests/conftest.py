"""Real servers for every tier: one embedded PostgreSQL and one Redis per test session.

Each test gets a fresh database cloned from a migrated template (fast, isolated), and a
flushed Redis logical database.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from bot.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis
from services.storage.db import connect, create_pool, migrate

TEMPLATE_DB = "qc_template"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    root = Path(tempfile.mkdtemp(prefix="qc-pg-"))
    server = start_postgres(root / "pgdata", delete_on_stop=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def pg_template(pg_server: EmbeddedPostgres) -> str:
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await admin.close()
    conn = await connect(pg_server.url_for(TEMPLATE_DB))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return TEMPLATE_DB


async def new_database(pg_server: EmbeddedPostgres, template: str | None) -> str:
    name = f"qc_test_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        clause = f" TEMPLATE {template}" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{clause}")
    finally:
        await admin.close()
    return name


async def drop_database(pg_server: EmbeddedPostgres, name: str) -> None:
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def db_url(pg_server: EmbeddedPostgres, pg_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database of the bot's own, for this test alone."""
    name = await new_database(pg_server, pg_template)
    yield pg_server.url_for(name)
    await drop_database(pg_server, name)


@pytest.fixture
async def empty_db_url(pg_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A fresh database with nothing in it (migration tests, monitored "QuickCart" DBs)."""
    name = await new_database(pg_server, None)
    yield pg_server.url_for(name)
    await drop_database(pg_server, name)


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url, min_size=1, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    root = Path(tempfile.mkdtemp(prefix="qc-redis-"))
    server = start_redis(root)
    yield server
    server.stop()


@pytest.fixture
async def redis_url(redis_server: EmbeddedRedis) -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(redis_server.url(0))
    await client.flushall()
    await client.config_resetstat()  # hit ratio and other counters start from zero per test
    await client.aclose()
    yield redis_server.url(0)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()
