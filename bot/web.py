"""HTTP routes of the one aiohttp app: /healthz, /readyz, /metrics, the Telegram webhook."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.keys import POOL, REDIS, WEBHOOK_HANDLER

WEBHOOK_PATH = "/telegram/webhook"
READY_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the bot's own PostgreSQL and Redis answer, each within two seconds."""
    problems: dict[str, str] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await request.app[POOL].fetchval("SELECT 1")
    except (TimeoutError, OSError, Exception) as exc:
        problems["postgres"] = type(exc).__name__
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await request.app[REDIS].ping()
    except (TimeoutError, OSError, Exception) as exc:
        problems["redis"] = type(exc).__name__
    if problems:
        return web.json_response({"status": "unavailable", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(generate_latest, REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    """Stores the update in the inbox (bot/intake.py); 200 only once it is stored."""
    handler = request.app.get(WEBHOOK_HANDLER)
    if handler is None:
        return web.json_response({"error": "webhook mode is off"}, status=404)
    return await handler.handle(request)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post(WEBHOOK_PATH, telegram_webhook)
