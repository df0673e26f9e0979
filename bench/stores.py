"""The stores a benchmark runs on: an embedded PostgreSQL, migrated, and an embedded Redis, in a
fresh directory under the system's temp dir (never pytest's), stopped when the run is over."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis
from services.storage.db import connect, migrate


@dataclass(frozen=True)
class Stores:
    work: Path  # the run's directory (pg/ and redis/ are in it)
    pg: EmbeddedPostgres
    redis: EmbeddedRedis

    async def stop(self) -> None:
        await asyncio.to_thread(self.redis.stop)
        await asyncio.to_thread(self.pg.stop)


async def start_stores(prefix: str) -> Stores:
    """Both servers started, the schema migrated; `prefix` names the temp dir (`qc-storm-`)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    pg = await asyncio.to_thread(start_postgres, work / "pg", delete_on_stop=True)
    redis = await asyncio.to_thread(start_redis, work / "redis")
    stores = Stores(work, pg, redis)
    try:
        conn = await connect(pg.url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
    except BaseException:
        await stores.stop()
        raise
    return stores
