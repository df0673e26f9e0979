"""`quickcart-ops check`: the health checks once, in a terminal, Nagios-style."""

from __future__ import annotations

import asyncio

from bot.embedded import EmbeddedPostgres
from bot.features import check_targets
from bot.runtime import resolve_database_url
from bot.settings import Settings
from services.checks.cli_render import CliConfig, run_for_cli


async def run_checks_cli(settings: Settings, names: list[str], *, as_json: bool) -> tuple[str, int]:
    """The bot's own database stores the run when there is one (set, or embedded and present)."""
    database_url = settings.DATABASE_URL
    embedded: EmbeddedPostgres | None = None
    if database_url is None and (settings.DATA_DIR / "pgdata" / "PG_VERSION").exists():
        database_url, embedded = await resolve_database_url(settings)
    config = CliConfig(
        targets=check_targets(settings),
        database_url=database_url,
        redis_url=settings.REDIS_URL,
        rules_file=settings.RULES_FILE,
        locale=settings.DEFAULT_LOCALE,
        timezone=settings.TIMEZONE,
    )
    try:
        return await run_for_cli(config, names, as_json)
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
