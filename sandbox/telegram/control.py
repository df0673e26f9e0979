"""The control API under ``/control/``: how tests and the web chat page play the people.

No token. JSON in, JSON out; errors answer ``{"ok": false, "error": "..."}`` with 400/404.

This module holds the API's plumbing (answers, errors, the request body) and the emulator's own
knobs and numbers: flood limits, injected faults, stats, the bot's commands, reset and the event
stream. The people and chats, and what people do in them (send, press, react), are
control_people.py; server.py routes both (`guarded`: an error answers as JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .botapi import RUNTIME
from .config import FaultConfig, LimitConfig
from .models import Json
from .people import ActionError
from .ratelimit import most_in_window
from .runtime import Runtime

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
SHUTDOWN = "_shutdown"


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def guarded(route: Route) -> Route:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await route(request)
        except ActionError as error:
            return fail(error.status, str(error))
        except (KeyError, TypeError, ValueError) as error:
            return fail(400, f"bad request: {error!r}")

    return wrapper


async def read_body(request: web.Request) -> Json:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def runtime_of(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def chat_id_of(request: web.Request) -> int:
    return int(request.match_info["chat_id"])


# knobs and numbers --------------------------------------------------------------------------


def _merge(current: Any, body: Json) -> Any:
    known = {f.name for f in dataclasses.fields(current)}
    unknown = set(body) - known
    if unknown:
        raise ActionError(400, f"unknown fields: {sorted(unknown)}")
    if "methods" in body and body["methods"] is not None:
        body = {**body, "methods": frozenset(str(m).lower() for m in body["methods"])}
    return dataclasses.replace(current, **body)


def _view(config: Any) -> Json:
    data = dataclasses.asdict(config)
    if isinstance(data.get("methods"), frozenset):
        data["methods"] = sorted(data["methods"])
    return data


async def set_limits(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    limits: LimitConfig = _merge(rt.limiter.config, await read_body(request))
    rt.limiter.reconfigure(limits)
    return ok(_view(limits))


async def set_faults(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    faults: FaultConfig = _merge(rt.faults.config, await read_body(request))
    rt.faults.configure(faults)
    return ok(_view(faults))


async def stats(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    return ok(
        {
            "calls": dict(rt.stats.calls),
            "sends": dict(rt.stats.sends),
            "errors": dict(rt.stats.errors),
            "retry_after": {str(k): v for k, v in rt.limiter.refused.items()},
            "retry_after_total": sum(rt.limiter.refused.values()),
            # per group: the most sends in any rolling window, and when each send was allowed
            "group_window_max": {
                str(chat): most_in_window(times, rt.limiter.config.group_window)
                for chat, times in rt.limiter.group_sends.items()
            },
            "group_send_times": {
                str(chat): times for chat, times in rt.limiter.group_sends.items()
            },
            "group_edit_times": {
                str(chat): times for chat, times in rt.limiter.group_edits.items()
            },
            "faults_injected": dict(rt.faults.injected),
            "faults_injected_total": sum(rt.faults.injected.values()),
            "pending_updates": len(rt.world.updates.items),
            "webhook": dataclasses.asdict(rt.world.webhook),
            "limits": _view(rt.limiter.config),
            "faults": _view(rt.faults.config),
        }
    )


async def commands(request: web.Request) -> web.Response:
    return ok(
        [
            {"scope": scope, "chat_id": chat, "user_id": user, "language_code": lang, "commands": c}
            for (scope, chat, user, lang), c in runtime_of(request).world.commands.items()
        ]
    )


async def reset(request: web.Request) -> web.Response:
    runtime_of(request).reset()
    return ok({"ok": True})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one ``event: <type>`` + ``data: <json>`` per bus event."""
    bus = runtime_of(request).bus
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = bus.subscribe()
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), 15)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event["type"] == SHUTDOWN:
                break
            data = json.dumps(event, ensure_ascii=False)
            await response.write(f"event: {event['type']}\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        bus.unsubscribe(queue)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response
