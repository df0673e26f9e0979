"""A Bot API call posted as JSON and its answer read as JSON, below aiogram's models.

For the two calls a storm makes thousands of: the delivery worker's sends (bot.sender) and
long polling (bot.intake). aiogram's way (a pydantic model of the method, a multipart form, the
answer validated into models) was about a third of a send's CPU, and the poller turned its
`Update` models straight back into JSON to store them (py-spy on bench/support_throughput.py).
A failed call raises the `services.delivery.errors` class it stands for, as aiogram's reading
of the same answer would.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession

from services.delivery import errors


def posts_json(bot: Bot) -> bool:
    """Whether `post` can call through this bot's session (aiogram's aiohttp one)."""
    return isinstance(bot.session, AiohttpSession)


async def post(bot: Bot, method: str, params: dict[str, Any], timeout: float) -> Any:
    """Call `method`; its result as JSON. Raises a DeliveryError (network trouble and a
    timeout are a TransientError)."""
    session = bot.session
    assert isinstance(session, AiohttpSession), "posts_json(bot) first"
    url = session.api.api_url(token=bot.token, method=method)
    body = {k: v for k, v in params.items() if v is not None}
    try:
        http = await session.create_session()
        async with http.post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            status, raw = response.status, await response.read()
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise errors.TransientError(f"network: {type(exc).__name__}: {exc}") from exc
    return result_of(status, raw)


def result_of(status: int, raw: bytes) -> Any:
    """What a Bot API answer (status, body) says: its result, or the DeliveryError."""
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise errors.TransientError(f"{status}: not a Bot API answer: {raw[:200]!r}")
    if answer.get("ok") is True and "result" in answer:
        return answer["result"]
    description = str(answer.get("description") or f"HTTP {status}")
    code = answer.get("error_code")
    code = code if isinstance(code, int) else status
    if code == 413:
        raise errors.PermanentError(errors.TOO_LONG, description)
    parameters = answer.get("parameters")
    if not isinstance(parameters, dict):
        parameters = {}
    retry_after = parameters.get("retry_after")
    migrate_to = parameters.get("migrate_to_chat_id")
    raise errors.classify(
        code,
        description,
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        migrate_to_chat_id=migrate_to if isinstance(migrate_to, int) else None,
    )
