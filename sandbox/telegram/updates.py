"""Getting updates: long polling (getUpdates) and webhooks (set/delete/info + delivery)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from .messages import Handler
from .models import Json
from .params import ApiError, Params, bad_request
from .runtime import Runtime
from .state import ALL_UPDATE_TYPES

log = logging.getLogger(__name__)

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _remember_allowed(rt: Runtime, p: Params) -> None:
    allowed = p.get_json("allowed_updates")
    if allowed is None:
        return
    if not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON array")
    known = [kind for kind in allowed if kind in ALL_UPDATE_TYPES]
    rt.world.updates.allowed_updates = frozenset(known) if allowed else None


async def get_updates(rt: Runtime, p: Params) -> list[Json]:
    queue = rt.world.updates
    if rt.world.webhook.url:
        raise ApiError(409, WEBHOOK_CONFLICT)
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = min(max(p.get_float("timeout", 0.0), 0.0), 50.0)
    _remember_allowed(rt, p)
    if offset:
        queue.confirm(offset)
    queue.poll_generation += 1
    mine = queue.poll_generation
    queue.wake()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if queue.poll_generation != mine:
            raise ApiError(409, POLL_CONFLICT)
        if queue.items or queue.closing or loop.time() >= deadline:
            return list(queue.items[:limit])
        await queue.wait(deadline - loop.time())


async def set_webhook(rt: Runtime, p: Params) -> bool:
    url = p.get_str("url") or ""
    secret = p.get_str("secret_token")
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    hook = rt.world.webhook
    hook.url = url
    hook.secret_token = secret
    hook.max_connections = p.get_int("max_connections") or 40
    hook.last_error_date = hook.last_error_message = None
    _remember_allowed(rt, p)
    if p.get_bool("drop_pending_updates"):
        rt.world.updates.clear()
    rt.world.updates.poll_generation += 1
    rt.world.updates.wake()
    return True


async def delete_webhook(rt: Runtime, p: Params) -> bool:
    rt.world.webhook.url = ""
    rt.world.webhook.secret_token = None
    if p.get_bool("drop_pending_updates"):
        rt.world.updates.clear()
    return True


async def get_webhook_info(rt: Runtime, p: Params) -> Json:
    hook = rt.world.webhook
    info: Json = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(rt.world.updates.items),
    }
    if hook.url:
        info["max_connections"] = hook.max_connections
        if rt.world.updates.allowed_updates is not None:
            info["allowed_updates"] = sorted(rt.world.updates.allowed_updates)
    if hook.last_error_date:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


METHODS: dict[str, Handler] = {
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
}

Executor = Callable[[str, Json], Awaitable[Any]]


class WebhookDeliverer:
    """Posts pending updates one by one to the webhook URL, retrying until it answers 2xx.

    A JSON answer holding ``{"method": ...}`` is executed like Telegram does.
    """

    def __init__(self, rt: Runtime, execute: Executor) -> None:
        self.rt = rt
        self.execute = execute
        self.delivered = 0

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.rt.config.webhook_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                world = self.rt.world
                queue = world.updates
                if not world.webhook.url or not queue.items:
                    await queue.wait(0.5)
                    continue
                update = queue.items[0]
                if await self._post(session, update):
                    self.delivered += 1
                    if queue.items and queue.items[0] is update:
                        queue.items.pop(0)
                else:
                    await asyncio.sleep(self.rt.config.webhook_retry_delay)

    async def _post(self, session: aiohttp.ClientSession, update: Json) -> bool:
        hook = self.rt.world.webhook
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with session.post(hook.url, json=update, headers=headers) as response:
                body = await response.read()
                if not 200 <= response.status < 300:
                    self._error(f"Wrong response from the webhook: {response.status}")
                    return False
        except (aiohttp.ClientError, TimeoutError) as error:
            self._error(f"Connection failed: {error.__class__.__name__}")
            return False
        with contextlib.suppress(ValueError, TypeError):
            answer = json.loads(body) if body else None
            if isinstance(answer, dict) and isinstance(answer.get("method"), str):
                params = {k: v for k, v in answer.items() if k != "method"}
                try:
                    await self.execute(answer["method"], params)
                except ApiError as error:
                    log.info("webhook reply method failed: %s", error.description)
        return True

    def _error(self, message: str) -> None:
        hook = self.rt.world.webhook
        hook.last_error_date = self.rt.world.now()
        hook.last_error_message = message
