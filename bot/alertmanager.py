"""`POST /api/alertmanager`: Alertmanager's webhook (version 4), accepted durably, folded after.

- `Authorization: Bearer ALERTMANAGER_TOKEN`, compared in constant time; missing, wrong or
  no token configured -> 401.
- Bodies over 1 MiB -> 413; not JSON (nested too deep included), not a v4 payload, text
  PostgreSQL cannot hold (NUL, a lone surrogate) or labels too large to index -> 400 with the
  reason, before anything is stored.
- Then the payload is appended to the alert inbox with one INSERT (`services/alerts/inbox.py`)
  and the answer is 200: stored, to be folded into alerts and groups by the inbox's consumer.
  The call takes no row lock another transaction may hold, so a storm's folding never slows
  Alertmanager's POSTs. Alertmanager retries a 5xx, so 503 means only that our own store is
  unreachable: a payload that can never be stored (a poison payload) is always a 4xx.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from loguru import logger

from bot.bodies import read_body
from bot.keys import CLOCK, POOL, SETTINGS
from services.alerts import inbox
from services.alerts.alertmanager import Refused, check
from services.clock import Clock

PATH = "/api/alertmanager"
MAX_BODY = 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# PostgreSQL refusing the data itself (class 22 data exception, 23 integrity, 54 program limit,
# e.g. an index row too large): the same payload would be refused again.
POISON = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
)


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"status": "error", "error": reason}, status=status)


def authorized(header: str | None, token: str | None) -> bool:
    if not token or not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def alertmanager_handler(
    *,
    token: Callable[[], str | None],
    pool: Callable[[], asyncpg.Pool],
    clock: Callable[[], Clock],
    wake: Callable[[], None] = lambda: None,
) -> Handler:
    """The handler; each dependency is looked up per request (the app builds them at start)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if not authorized(request.headers.get("Authorization"), token()):
            return _error(401, "missing or wrong bearer token")
        read = await read_body(request, MAX_BODY)
        if read is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        body, _size = read
        try:
            checked = check(body)
        except Refused as exc:
            return _error(400, str(exc))
        try:
            inbox_id = await inbox.append(pool(), checked, clock().now())
        except POISON as exc:  # the data, not the store: retrying would fail the same way
            logger.warning("alertmanager payload refused by PostgreSQL: {}", type(exc).__name__)
            return _error(400, f"cannot be stored: {exc}")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.error("alertmanager payload not stored: {}", type(exc).__name__)
            return _error(503, "not stored, retry later")
        wake()  # this process's consumer folds it now; other replicas' poll finds it
        return web.json_response({"status": "ok", "stored": checked.alerts, "inbox_id": inbox_id})

    return handle


def add_alertmanager_route(app: web.Application, wake: Callable[[], None]) -> None:
    """Mount the receiver on the bot's app, reading what the app's cleanup contexts own."""
    handler = alertmanager_handler(
        token=lambda: app[SETTINGS].ALERTMANAGER_TOKEN,
        pool=lambda: app[POOL],
        clock=lambda: app[CLOCK],
        wake=wake,
    )
    app.router.add_post(PATH, handler)
