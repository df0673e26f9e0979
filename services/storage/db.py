"""The asyncpg pool and the versioned SQL migrations.

Migrations are the numbered `.sql` files beside this module. Each is applied in its own
transaction, in order, under a PostgreSQL advisory lock (two replicas starting at once
cannot race), and recorded with its SHA-256: an already-applied file that changed is an
error, not something to paper over.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg
from loguru import logger

MIGRATION_LOCK_KEY = 0x5143_0001  # "QC" + 1: the advisory lock that serialises migrations
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The database and the migration files disagree."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(package: str = "services.storage.migrations") -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a number: {versions}")
    return found


_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply what is pending; return the names applied. Safe to call from several processes."""
    migrations = load_migrations() if migrations is None else migrations
    applied_now: list[str] = []
    session_changed(conn)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(_CREATE_LEDGER)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        done = {r["version"]: r for r in rows}
        for migration in migrations:
            row = done.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was changed after "
                        "it was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(f"{migration.version:04d}_{migration.name}")
            logger.info("applied migration {}", applied_now[-1])
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now


# Called with each statement a pooled connection runs (asyncpg's query logger), for benches
# that count round trips; empty in the bot.
QUERY_OBSERVERS: list[Callable[[Any], None]] = []


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    for observer in QUERY_OBSERVERS:
        conn.add_query_logger(observer)


# Backend pids of pooled connections whose session changed beyond a transaction: a session
# advisory lock or a LISTEN (the inbox's and delivery worker's life locks, migrations). Only
# these get asyncpg's full reset when they go back to the pool. Every other release costs no
# round trip: the full reset (pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL) ran
# on every release, about 7 round trips per customer message, and nothing else here changes a
# session (no SET, no session lock, cursors only inside transactions, which asyncpg rolls back
# on release). Code that changes a session must call `session_changed`.
_SESSION_CHANGED: set[int] = set()


def session_changed(conn: asyncpg.Connection | Any) -> None:
    """This pooled connection took a session lock or a LISTEN: fully reset it on release."""
    _SESSION_CHANGED.add(conn.get_server_pid())


async def _reset_if_changed(conn: asyncpg.Connection) -> None:
    pid = conn.get_server_pid()
    if pid in _SESSION_CHANGED:
        _SESSION_CHANGED.discard(pid)
        await conn.execute(conn.get_reset_query())


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any
) -> asyncpg.Pool:
    """A pool whose json/jsonb columns read and write Python objects, and whose release resets
    only a session that changed (`session_changed`)."""
    kwargs.setdefault("reset", _reset_if_changed)
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    assert pool is not None
    return pool


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    conn: asyncpg.Connection = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn


@asynccontextmanager
async def transaction(db: asyncpg.Pool | asyncpg.Connection) -> AsyncIterator[Any]:
    """The one way to open a transaction: on a pooled connection (given the pool), or on the
    connection given (a savepoint when it is in one already). Yields the connection."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db
