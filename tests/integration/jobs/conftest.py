from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from bot.embedded import EmbeddedPostgres
from jobs.context import JobDeps
from services.clock import FrozenClock
from services.rules import Rules

ADMIN_CHAT = -100500


@pytest.fixture
def make_deps(pool: asyncpg.Pool, pg_server: EmbeddedPostgres) -> Callable[..., JobDeps]:
    def build(now: datetime, *, rules: dict[str, Any] | None = None, **kwargs: Any) -> JobDeps:
        values: dict[str, Any] = {
            "pool": pool,
            "rules": Rules(rules or {}),
            "clock": FrozenClock(now),
            "timezone": "Asia/Jakarta",
            "admin_chat_id": ADMIN_CHAT,
            "default_locale": "en",
            "pg_bin_dir": pg_server.bin_dir,
            "restore_server_url": pg_server.url,
            "instance": "replica-a",
        }
        values.update(kwargs)
        return JobDeps(**values)

    return build


@pytest.fixture
async def second_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """Another replica's pool on the same database."""
    from services.storage.db import create_pool

    pool = await create_pool(db_url, min_size=1, max_size=5)
    yield pool
    await pool.close()
