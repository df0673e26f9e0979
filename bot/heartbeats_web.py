"""`HEAD|GET|POST /ping/<uuid>[/start|/fail|/<exit status>]`: Healthchecks' pinging API.

- The uuid is the secret: an unknown (or malformed) one answers 404 "not found".
- An exit status over 255 answers 400 "invalid url format"; 0 is a success, 1-255 a failure.
- The body is the log: the first `body_limit` bytes (10,000 by default, Healthchecks'
  PING_BODY_LIMIT) are kept, the rest dropped, and every answer says so in `Ping-Body-Limit`.
  A body over 1 MiB is refused (413) before anything is stored.
- 200 "OK" once the ping is stored; 503 while the bot's own PostgreSQL does not answer (the
  job's `curl --retry` tries again).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from loguru import logger

from bot.bodies import read_body
from bot.keys import CLOCK, FEATURES, POOL, REDIS
from services.heartbeats import pings
from services.heartbeats.model import ping_kind

MAX_BODY = 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _text(status: int, text: str, limit: int | None = None) -> web.Response:
    headers = {"Access-Control-Allow-Origin": "*"}
    if limit is not None:
        headers["Ping-Body-Limit"] = str(limit)
    return web.Response(status=status, text=text, headers=headers)


def _remote(request: web.Request) -> str | None:
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    return (forwarded or request.remote or "")[:100] or None


async def ping(request: web.Request) -> web.StreamResponse:
    app = request.app
    rules = app[FEATURES].heartbeats_rules
    try:
        key = uuid.UUID(request.match_info["key"])
    except ValueError:
        return _text(404, "not found")
    action = request.match_info.get("action")
    exit_status: int | None = None
    if action is not None and action not in ("start", "fail"):
        if not action.isdigit():
            return _text(404, "not found")
        exit_status = int(action)
        if exit_status > 255:
            return _text(400, "invalid url format")
    read = await read_body(request, MAX_BODY, keep=rules.body_limit)
    if read is None:
        return _text(413, f"body larger than {MAX_BODY} bytes", rules.body_limit)
    body, size = read
    try:
        outcome = await pings.receive(
            app[POOL],
            app.get(REDIS),
            pings.Ping(
                key=key,
                kind=ping_kind(action, exit_status),
                exit_status=exit_status,
                method=request.method,
                remote_addr=_remote(request),
                user_agent=request.headers.get("User-Agent", ""),
                body=body,
                body_size=size,
            ),
            app[CLOCK].now(),
            rules,
            app[FEATURES].alerts_rules,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        logger.error("heartbeat ping not stored: {}", type(exc).__name__)
        return _text(503, "not stored, retry later", rules.body_limit)
    if outcome is None:
        return _text(404, "not found")
    return _text(200, "OK", rules.body_limit)


def add_ping_routes(app: web.Application) -> None:
    for path in ("/ping/{key}", "/ping/{key}/{action}"):
        app.router.add_get(path, ping)  # HEAD too (allow_head)
        app.router.add_post(path, ping)
