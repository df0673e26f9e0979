"""`quickcart-ops jobs list` / `jobs run NAME`: the maintenance schedule from a terminal."""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from bot.features import assemble
from bot.runtime import apply_migrations, resolve_database_url
from bot.settings import Settings
from jobs.cli import exit_code, jobs_table, list_jobs, run_job
from jobs.runner import UnknownJob
from services.clock import SystemClock
from services.rules import Rules
from services.storage.db import create_pool


async def jobs_list(settings: Settings) -> str:
    rules = Rules.load(settings.RULES_FILE)
    url, embedded = await resolve_database_url(settings)
    try:
        await apply_migrations(url)
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            listings = await list_jobs(rules, settings.TIMEZONE, SystemClock().now(), pool)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    return jobs_table(listings, settings.TIMEZONE)


async def jobs_run(settings: Settings, name: str) -> int:
    """Run one job now; the operator at the terminal is the confirmation destructive jobs ask."""
    url, embedded = await resolve_database_url(settings)
    redis = Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
    try:
        await apply_migrations(url)
        pool = await create_pool(url, min_size=1, max_size=4)
        # the same assembly as the running bot's, so a job run here sees what it sees there
        deps = assemble(
            settings,
            Rules.load(settings.RULES_FILE),
            pool=pool,
            clock=SystemClock(),
            redis=redis,
            restore_server_url=embedded.url if embedded is not None else url,
        ).job_deps
        try:
            run = await run_job(name, deps, triggered_by="cli", confirmed=True)
        except UnknownJob:
            print(
                f"quickcart-ops: no job named {name!r}; see `quickcart-ops jobs list`",
                file=sys.stderr,
            )
            return 2
        finally:
            await pool.close()
    finally:
        if redis is not None:
            await redis.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    print(f"{run.job}: {run.status.value} - {run.summary}")
    code: int = exit_code(run)
    return code
