"""The control API under ``/control/``: how tests and the web chat page play the people.

No token. JSON in, JSON out; errors answer ``{"ok": false, "error": "..."}`` with 400/404.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .botapi import RUNTIME
from .chats import delete_topic
from .config import FaultConfig, LimitConfig
from .models import Json
from .people import ActionError, Attachment, tiny_png, user_presses, user_reacts, user_sends
from .ratelimit import most_in_window
from .runtime import Runtime

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
SHUTDOWN = "_shutdown"


def _ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _fail(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def guarded(route: Route) -> Route:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await route(request)
        except ActionError as error:
            return _fail(error.status, str(error))
        except (KeyError, TypeError, ValueError) as error:
            return _fail(400, f"bad request: {error!r}")

    return wrapper


async def _body(request: web.Request) -> Json:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("a JSON object is expected")
    return body


def _rt(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def _chat_id(request: web.Request) -> int:
    return int(request.match_info["chat_id"])


# people and chats -------------------------------------------------------------------------

_USER_FIELDS = ("first_name", "last_name", "username", "language_code")


async def upsert_user(request: web.Request) -> web.Response:
    body = await _body(request)
    rt = _rt(request)
    user = rt.world.upsert_user(int(body["id"]), **{k: body.get(k) for k in _USER_FIELDS})
    if "blocked_bot" in body:
        user.blocked_bot = bool(body["blocked_bot"])
    if "started" in body:  # someone who pressed Start before the story begins
        user.started = bool(body["started"])
    return _ok(dataclasses.asdict(user))


async def list_users(request: web.Request) -> web.Response:
    users = _rt(request).world.users.values()
    return _ok([dataclasses.asdict(u) for u in users if not u.is_bot])


async def _set_blocked(request: web.Request, blocked: bool) -> web.Response:
    user = _rt(request).world.users.get(int(request.match_info["user_id"]))
    if user is None:
        raise ActionError(404, "no such user")
    user.blocked_bot = blocked
    return _ok(dataclasses.asdict(user))


async def block(request: web.Request) -> web.Response:
    return await _set_blocked(request, True)


async def unblock(request: web.Request) -> web.Response:
    return await _set_blocked(request, False)


async def create_chat(request: web.Request) -> web.Response:
    body = await _body(request)
    rt = _rt(request)
    kind = body.get("type", "supergroup")
    if kind not in ("group", "supergroup", "channel"):
        raise ActionError(400, "type must be group, supergroup or channel")
    members = [int(m) for m in body.get("members", [])]
    admins = [int(m) for m in body.get("admins", [])]
    for user_id in {*members, *admins}:
        if user_id not in rt.world.users:
            rt.world.upsert_user(user_id)
    chat = rt.world.create_group(
        title=str(body.get("title") or "Group"),
        type=kind,
        is_forum=bool(body.get("is_forum", False)),
        members=members,
        admins=admins,
        chat_id=int(body["id"]) if body.get("id") is not None else None,
        username=body.get("username"),
    )
    return _ok(chat.control_view())


async def list_chats(request: web.Request) -> web.Response:
    return _ok([c.control_view() for c in _rt(request).world.chats.values()])


def _chat(request: web.Request) -> Any:
    chat = _rt(request).world.chats.get(_chat_id(request))
    if chat is None:
        raise ActionError(404, f"no chat {_chat_id(request)}")
    return chat


async def get_chat(request: web.Request) -> web.Response:
    return _ok(_chat(request).control_view())


async def migrate(request: web.Request) -> web.Response:
    chat = _chat(request)
    if chat.type != "group" or chat.migrated_to is not None:
        raise ActionError(400, "only a basic group that was not migrated yet can be migrated")
    new = _rt(request).world.migrate(chat)
    return _ok({"old_chat_id": chat.id, "new_chat_id": new.id})


async def messages(request: web.Request) -> web.Response:
    rt = _rt(request)
    chat = _chat(request)
    thread = request.query.get("thread_id")
    since = int(request.query.get("since", "0"))
    with_deleted = request.query.get("include_deleted") in ("1", "true")
    found = [
        rt.world.message_view(m)
        for m in chat.messages.values()
        if m.message_id > since
        and (with_deleted or not m.deleted)
        and (thread is None or m.message_thread_id == int(thread))
    ]
    return _ok(found)


async def topics(request: web.Request) -> web.Response:
    return _ok([t.control_view() for t in _chat(request).topics.values()])


async def remove_topic(request: web.Request) -> web.Response:
    chat = _chat(request)
    topic = chat.topics.get(int(request.match_info["thread_id"]))
    if topic is None or topic.deleted:
        raise ActionError(404, "no such topic")
    delete_topic(_rt(request), chat, topic)
    return _ok(topic.control_view())


# acting -------------------------------------------------------------------------------------


def _attachment(spec: Any, kind: str) -> Attachment:
    if spec is True or spec == {}:
        return (
            Attachment(tiny_png(), "photo.png", "image/png")
            if kind == "photo"
            else (Attachment(b"generated document\n", "document.txt", "text/plain"))
        )
    if not isinstance(spec, dict):
        raise ActionError(400, f"{kind} must be true or an object with base64 data")
    try:
        data = base64.b64decode(spec.get("base64", ""), validate=True)
    except binascii.Error:
        raise ActionError(400, f"{kind}.base64 is not valid base64") from None
    if not data and kind == "photo":
        data = tiny_png()
    return Attachment(data, spec.get("file_name"), spec.get("mime_type"))


async def send(request: web.Request) -> web.Response:
    body = await _body(request)
    rt = _rt(request)
    message = user_sends(
        rt,
        user_id=int(body["user_id"]),
        chat_id=int(body["chat_id"] if "chat_id" in body else body["user_id"]),
        text=body.get("text"),
        entities=body.get("entities"),
        photo=_attachment(body["photo"], "photo") if body.get("photo") else None,
        document=_attachment(body["document"], "document") if body.get("document") else None,
        caption=body.get("caption"),
        thread_id=body.get("thread_id"),
        reply_to=body.get("reply_to"),
        as_chat=int(body["as_chat"]) if body.get("as_chat") is not None else None,
    )
    return _ok(rt.world.message_view(message))


async def press(request: web.Request) -> web.Response:
    body = await _body(request)
    query = user_presses(
        _rt(request),
        user_id=int(body["user_id"]),
        chat_id=int(body["chat_id"]),
        message_id=int(body["message_id"]),
        data=str(body["data"]),
        force=bool(body.get("force", False)),
    )
    return _ok({"callback_query_id": query.id})


async def react(request: web.Request) -> web.Response:
    body = await _body(request)
    emoji = body.get("emoji") or []
    if isinstance(emoji, str):
        emoji = [emoji]
    payload = user_reacts(
        _rt(request),
        user_id=int(body["user_id"]),
        chat_id=int(body["chat_id"]),
        message_id=int(body["message_id"]),
        emoji=[str(e) for e in emoji],
    )
    return _ok(payload)


async def callback(request: web.Request) -> web.Response:
    query = _rt(request).world.callbacks.get(request.match_info["query_id"])
    if query is None:
        raise ActionError(404, "no such callback query")
    return _ok(query.control_view())


async def inject_update(request: web.Request) -> web.Response:
    body = await _body(request)
    queue = _rt(request).world.updates
    if not isinstance(body.get("update_id"), int):
        body = {"update_id": queue.next_update_id, **body}
    return _ok(queue.push_raw(body))


async def pending_updates(request: web.Request) -> web.Response:
    return _ok(_rt(request).world.updates.items)


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
    rt = _rt(request)
    limits: LimitConfig = _merge(rt.limiter.config, await _body(request))
    rt.limiter.reconfigure(limits)
    return _ok(_view(limits))


async def set_faults(request: web.Request) -> web.Response:
    rt = _rt(request)
    faults: FaultConfig = _merge(rt.faults.config, await _body(request))
    rt.faults.configure(faults)
    return _ok(_view(faults))


async def stats(request: web.Request) -> web.Response:
    rt = _rt(request)
    return _ok(
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
    return _ok(
        [
            {"scope": scope, "chat_id": chat, "user_id": user, "language_code": lang, "commands": c}
            for (scope, chat, user, lang), c in _rt(request).world.commands.items()
        ]
    )


async def reset(request: web.Request) -> web.Response:
    _rt(request).reset()
    return _ok({"ok": True})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one ``event: <type>`` + ``data: <json>`` per bus event."""
    bus = _rt(request).bus
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


def add_routes(app: web.Application) -> None:
    routes: list[tuple[str, str, Route]] = [
        ("POST", "/control/users", upsert_user),
        ("GET", "/control/users", list_users),
        ("POST", "/control/users/{user_id}/block", block),
        ("POST", "/control/users/{user_id}/unblock", unblock),
        ("POST", "/control/chats", create_chat),
        ("GET", "/control/chats", list_chats),
        ("GET", "/control/chats/{chat_id}", get_chat),
        ("POST", "/control/chats/{chat_id}/migrate", migrate),
        ("GET", "/control/chats/{chat_id}/messages", messages),
        ("GET", "/control/chats/{chat_id}/topics", topics),
        ("DELETE", "/control/chats/{chat_id}/topics/{thread_id}", remove_topic),
        ("POST", "/control/chats/{chat_id}/topics/{thread_id}/delete", remove_topic),
        ("POST", "/control/send", send),
        ("POST", "/control/press", press),
        ("POST", "/control/react", react),
        ("GET", "/control/callbacks/{query_id}", callback),
        ("POST", "/control/inject_update", inject_update),
        ("GET", "/control/updates", pending_updates),
        ("GET", "/control/commands", commands),
        ("GET", "/control/stats", stats),
        ("POST", "/control/limits", set_limits),
        ("POST", "/control/faults", set_faults),
        ("POST", "/control/reset", reset),
        ("GET", "/control/events", events),
    ]
    for method, path, route in routes:
        app.router.add_route(method, path, route if route is events else guarded(route))
