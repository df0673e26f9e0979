"""`create_app(settings)`: the whole running bot as one aiohttp application.

Each long-lived thing is owned by one cleanup context (start, yield, stop), in order:
stores (PostgreSQL pool + Redis, migrations, first admins) -> Telegram (Bot, Dispatcher,
command menus, polling task or webhook) -> background workers features register.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiohttp import web
from loguru import logger
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.alertmanager import add_alertmanager_route
from bot.app import create_bot, create_dispatcher, register_commands
from bot.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis
from bot.emergency import add_emergency_route
from bot.features import assemble
from bot.heartbeats_web import add_ping_routes
from bot.intake import Poller, WebhookIntake, dispatcher_feed, run_relay_feed
from bot.keys import (
    BOT,
    CLOCK,
    DISPATCHER,
    FEATURES,
    INBOX,
    POOL,
    REDIS,
    REDIS_URL,
    RULES,
    SERVER_URL,
    SETTINGS,
    WEBHOOK_HANDLER,
)
from bot.session import install as install_reliable_requests
from bot.settings import Settings
from bot.supervision import supervise
from bot.web import WEBHOOK_PATH, add_routes
from bot.workers import (
    alert_inbox_ctx,
    flood_teller,
    send_answers,
    wake_alert_inbox,
    worker_contexts,
)
from services import users
from services.clock import Clock, SystemClock
from services.delivery.ratelimit import RateLimiter
from services.heartbeats import actions as heartbeats
from services.inbox.worker import InboxWorker
from services.oncall import store as oncall_store
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


def redis_client(url: str) -> Redis:
    """A Redis client that survives a Redis restart without losing a command.

    A blocking pool: under a burst, callers wait for a connection instead of failing
    (redis-py's default pool raises MaxConnectionsError past its limit). A pooled connection
    that died with the server is noticed by the health check or the first command on it,
    which reconnects and retries (with backoff) instead of raising."""
    return Redis(
        connection_pool=BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=20,
            health_check_interval=5,
            socket_connect_timeout=2,
            socket_timeout=10,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
    )


async def stores_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    database_url, embedded_pg = await resolve_database_url(settings)
    redis_url, embedded_redis = await asyncio.to_thread(resolve_redis_url, settings)
    await apply_migrations(database_url)
    pool = await create_pool(database_url, min_size=2, max_size=20)
    # A blocking pool: under a burst, callers wait for a connection instead of failing
    # (redis-py's default pool raises MaxConnectionsError past its limit and the update is lost).
    redis = redis_client(redis_url)
    await users.seed_admins(pool, settings.ADMIN_IDS)
    server_url = embedded_pg.url if embedded_pg is not None else database_url
    features = assemble(
        settings,
        app[RULES],
        pool=pool,
        clock=app[CLOCK],
        redis=redis,
        restore_server_url=server_url,
    )
    # The heartbeats RULES_FILE defines exist before /ping/<uuid> answers its first request.
    await heartbeats.sync_rules(
        pool, features.heartbeats_rules, settings.TIMEZONE, app[CLOCK].now()
    )
    # RULES_FILE rotations, under any the admins saved from the chat
    await oncall_store.sync_rules(pool, features.oncall.rules)
    app[POOL] = pool
    app[REDIS] = redis
    app[REDIS_URL] = redis_url
    app[SERVER_URL] = server_url
    app[FEATURES] = features
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
    """The Bot, the Dispatcher, and the front door: updates are stored in the inbox before
    Telegram is told they arrived, then handled from there (bot/intake.py)."""
    settings, features = app[SETTINGS], app[FEATURES]
    bot = create_bot(settings)
    delivery = features.delivery
    # Direct replies share the delivery worker's per-chat buckets and ride out 429 / 5xx.
    install_reliable_requests(
        bot, RateLimiter(app[REDIS], delivery.limits, app[CLOCK], prefix=delivery.redis_prefix)
    )
    # The FSM storage has a Redis client of its own: aiogram closes it at shutdown, and the
    # shared client must outlive the handlers still running then.
    fsm_redis = redis_client(app[REDIS_URL])
    dp = create_dispatcher(
        settings,
        app[POOL],
        app[REDIS],
        fsm_redis=fsm_redis,
        clock=app[CLOCK],
        **features.workflow(),
    )
    app[BOT] = bot
    app[DISPATCHER] = dp
    me = await bot.get_me()
    logger.info("connected to the Bot API as @{}", me.username)
    await register_commands(bot, settings)
    config = features.inbox
    answers = functools.partial(send_answers, app)
    feed = dispatcher_feed(dp, bot, answers)
    together = run_relay_feed(app[POOL], app[REDIS], features.desk_config, app[CLOCK], answers)
    inbox = InboxWorker(app[POOL], feed, config, flood_teller(app), together)
    app[INBOX] = inbox
    allowed = dp.resolve_used_update_types()
    intake: Poller | None = None
    if settings.WEBHOOK_URL:
        assert settings.WEBHOOK_SECRET is not None  # Settings refuses webhook mode without it
        app[WEBHOOK_HANDLER] = WebhookIntake(app[POOL], inbox, config, settings.WEBHOOK_SECRET)
        await bot.set_webhook(
            settings.WEBHOOK_URL.rstrip("/") + WEBHOOK_PATH
            if not settings.WEBHOOK_URL.endswith(WEBHOOK_PATH)
            else settings.WEBHOOK_URL,
            secret_token=settings.WEBHOOK_SECRET,
            allowed_updates=allowed,
        )
    else:
        await bot.delete_webhook(drop_pending_updates=False)
        intake = Poller(bot, app[POOL], inbox, config, allowed)
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(supervise("inbox", inbox, stopping), name="inbox")]
    if intake is not None:
        tasks.append(asyncio.create_task(supervise("polling", intake, stopping), name="polling"))
    yield
    stopping.set()
    # Stop taking updates in, let the ones in hand finish (the rest stay in the inbox for
    # the next start), and only then close what handlers use.
    if intake is not None:
        await intake.stop()
    if WEBHOOK_HANDLER in app:
        app[WEBHOOK_HANDLER].close()
    await inbox.stop()
    _done, late = await asyncio.wait(tasks, timeout=config.stop_grace + 5)
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await dp.storage.close()
    await bot.session.close()


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
    app.cleanup_ctx.append(alert_inbox_ctx)
    add_alertmanager_route(app, lambda: wake_alert_inbox(app))
    add_ping_routes(app)
    add_emergency_route(app)
    if with_telegram:
        app.cleanup_ctx.append(telegram_ctx)
        for ctx in worker_contexts():
            app.cleanup_ctx.append(ctx)
    return app
