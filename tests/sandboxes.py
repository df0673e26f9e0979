"""The sandbox (`bot sandbox`: the bot, its page and the pretend shop in one process) as the tests
run it: on the test's PostgreSQL and Redis, the shop's database to watch, any free port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.monitor import MonitorConfig
from bot.sandbox_cmd import Sandbox, running
from bot.settings import Settings


@asynccontextmanager
async def sandbox_on(
    db_url: str,
    shop_db_url: str,
    redis_url: str,
    data_dir: Path,
    monitor: MonitorConfig,
    **settings: Any,
) -> AsyncIterator[Sandbox]:
    """A running sandbox in Indonesian by default; `settings` add to or override its own."""
    built = Settings(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        MONITOR_DATABASE_URL=shop_db_url,
        DATA_DIR=data_dir,
        HTTP_PORT=0,
        DEFAULT_LOCALE="id",
        **settings,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with running(built, port=0, monitor=monitor) as box:
        yield box
