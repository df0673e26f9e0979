"""`POST /api/alertmanager`: Alertmanager's webhook (version 4) into the alert pipeline.

- `Authorization: Bearer ALERTMANAGER_TOKEN`, compared in constant time; missing, wrong or
  no token configured -> 401.
- Bodies over 1 MiB -> 413; not JSON (nested too deep included) or not a v4 payload -> 400 with
  the reason, as is text PostgreSQL cannot hold (NUL, a lone surrogate) or data it refuses.
- 200 only once every alert of the payload is stored. Alertmanager retries a 5xx, so 503 means
  only that our own store is unreachable: a payload that can never be stored (a poison payload)
  is always a 4xx, never retried for ever.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from loguru import logger
from pydantic import ValidationError

from bot.keys import CLOCK, FEATURES, POOL, SETTINGS
from services.alerts.alertmanager import AmPayload, ingest
from services.alerts.config import AlertsRules
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


async def _read_limited(request: web.Request) -> bytes | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def alertmanager_handler(
    *,
    token: Callable[[], str | None],
    pool: Callable[[], asyncpg.Pool],
    config: Callable[[], AlertsRules],
    clock: Callable[[], Clock],
) -> Handler:
    """The handler; each dependency is looked up per request (the app builds them at start)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if not authorized(request.headers.get("Authorization"), token()):
            return _error(401, "missing or wrong bearer token")
        body = await _read_limited(request)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        except RecursionError:
            return _error(400, "malformed JSON: nested too deeply")
        try:
            payload = AmPayload.model_validate(raw)
        except ValidationError as exc:
            return _error(400, f"not an Alertmanager v4 payload: {_reason(exc)}")
        try:
            result = await ingest(pool(), payload, config(), clock().now())
        except POISON as exc:  # the data, not the store: retrying would fail the same way
            logger.warning("alertmanager payload refused by PostgreSQL: {}", type(exc).__name__)
            return _error(400, f"cannot be stored: {exc}")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.error("alertmanager payload not stored: {}", type(exc).__name__)
            return _error(503, "not stored, retry later")
        return web.json_response(
            {
                "status": "ok",
                "stored": result.stored,
                "firing": result.firing,
                "resolved": result.resolved,
                "ignored": result.ignored,
            }
        )

    return handle


def add_alertmanager_route(app: web.Application) -> None:
    """Mount the receiver on the bot's app, reading what the app's cleanup contexts own."""
    handler = alertmanager_handler(
        token=lambda: app[SETTINGS].ALERTMANAGER_TOKEN,
        pool=lambda: app[POOL],
        config=lambda: app[FEATURES].alerts_rules,
        clock=lambda: app[CLOCK],
    )
    app.router.add_post(PATH, handler)
