"""HTTP routes of the one aiohttp app: /healthz, /readyz, /metrics, the Telegram webhook,
the on-call calendars."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.keys import CLOCK, FEATURES, POOL, REDIS, WEBHOOK_HANDLER
from services.oncall.feed import feed

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


async def oncall_calendar(request: web.Request) -> web.Response:
    """GET /oncall/<token>.ics: a private calendar feed; an unknown token gets 404, nothing else."""
    ctx = request.app[FEATURES].oncall
    body = await feed(request.app[POOL], ctx, request.match_info["token"], request.app[CLOCK].now())
    if body is None:
        return web.Response(status=404, text="not found")
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": 'inline; filename="oncall.ics"',
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    app.router.add_get(r"/oncall/{token:[^/]{1,200}}.ics", oncall_calendar)
