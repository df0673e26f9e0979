"""The control API's people and chats: who is in the world, and what they do there.

Users (made, listed, blocked), groups and channels (made, migrated, their messages and forum
topics), and people acting: sending text and files, pressing buttons, reacting, raw updates.
The plumbing and the emulator's knobs and numbers are control.py; server.py routes both.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

from aiohttp import web

from .chats import delete_topic
from .control import chat_id_of, ok, read_body, runtime_of
from .people import ActionError, Attachment, tiny_png, user_presses, user_reacts, user_sends

# people and chats -------------------------------------------------------------------------

_USER_FIELDS = ("first_name", "last_name", "username", "language_code")


async def upsert_user(request: web.Request) -> web.Response:
    body = await read_body(request)
    rt = runtime_of(request)
    user = rt.world.upsert_user(int(body["id"]), **{k: body.get(k) for k in _USER_FIELDS})
    if "blocked_bot" in body:
        user.blocked_bot = bool(body["blocked_bot"])
    if "started" in body:  # someone who pressed Start before the story begins
        user.started = bool(body["started"])
    return ok(dataclasses.asdict(user))


async def list_users(request: web.Request) -> web.Response:
    users = runtime_of(request).world.users.values()
    return ok([dataclasses.asdict(u) for u in users if not u.is_bot])


async def _set_blocked(request: web.Request, blocked: bool) -> web.Response:
    user = runtime_of(request).world.users.get(int(request.match_info["user_id"]))
    if user is None:
        raise ActionError(404, "no such user")
    user.blocked_bot = blocked
    return ok(dataclasses.asdict(user))


async def block(request: web.Request) -> web.Response:
    return await _set_blocked(request, True)


async def unblock(request: web.Request) -> web.Response:
    return await _set_blocked(request, False)


async def create_chat(request: web.Request) -> web.Response:
    body = await read_body(request)
    rt = runtime_of(request)
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
    return ok(chat.control_view())


async def list_chats(request: web.Request) -> web.Response:
    return ok([c.control_view() for c in runtime_of(request).world.chats.values()])


def _chat(request: web.Request) -> Any:
    chat = runtime_of(request).world.chats.get(chat_id_of(request))
    if chat is None:
        raise ActionError(404, f"no chat {chat_id_of(request)}")
    return chat


async def get_chat(request: web.Request) -> web.Response:
    return ok(_chat(request).control_view())


async def migrate(request: web.Request) -> web.Response:
    chat = _chat(request)
    if chat.type != "group" or chat.migrated_to is not None:
        raise ActionError(400, "only a basic group that was not migrated yet can be migrated")
    new = runtime_of(request).world.migrate(chat)
    return ok({"old_chat_id": chat.id, "new_chat_id": new.id})


async def messages(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    chat = _chat(request)
    thread = request.query.get("thread_id")
    since = int(request.query.get("since", "0"))
    with_deleted = request.query.get("include_deleted") in ("1", "true")
    newer = []  # from the newest back: a poll for what is new reads only that
    for m in reversed(chat.messages.values()):  # ids grow in the order messages were added
        if m.message_id <= since:
            break
        newer.append(m)
    found = [
        rt.world.message_view(m)
        for m in reversed(newer)
        if (with_deleted or not m.deleted)
        and (thread is None or m.message_thread_id == int(thread))
    ]
    return ok(found)


async def topics(request: web.Request) -> web.Response:
    return ok([t.control_view() for t in _chat(request).topics.values()])


async def remove_topic(request: web.Request) -> web.Response:
    chat = _chat(request)
    topic = chat.topics.get(int(request.match_info["thread_id"]))
    if topic is None or topic.deleted:
        raise ActionError(404, "no such topic")
    delete_topic(runtime_of(request), chat, topic)
    return ok(topic.control_view())


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
    body = await read_body(request)
    rt = runtime_of(request)
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
    return ok(rt.world.message_view(message))


async def press(request: web.Request) -> web.Response:
    body = await read_body(request)
    query = user_presses(
        runtime_of(request),
        user_id=int(body["user_id"]),
        chat_id=int(body["chat_id"]),
        message_id=int(body["message_id"]),
        data=str(body["data"]),
        force=bool(body.get("force", False)),
    )
    return ok({"callback_query_id": query.id})


async def react(request: web.Request) -> web.Response:
    body = await read_body(request)
    emoji = body.get("emoji") or []
    if isinstance(emoji, str):
        emoji = [emoji]
    payload = user_reacts(
        runtime_of(request),
        user_id=int(body["user_id"]),
        chat_id=int(body["chat_id"]),
        message_id=int(body["message_id"]),
        emoji=[str(e) for e in emoji],
    )
    return ok(payload)


async def callback(request: web.Request) -> web.Response:
    query = runtime_of(request).world.callbacks.get(request.match_info["query_id"])
    if query is None:
        raise ActionError(404, "no such callback query")
    return ok(query.control_view())


async def inject_update(request: web.Request) -> web.Response:
    body = await read_body(request)
    queue = runtime_of(request).world.updates
    if not isinstance(body.get("update_id"), int):
        body = {"update_id": queue.next_update_id, **body}
    return ok(queue.push_raw(body))


async def pending_updates(request: web.Request) -> web.Response:
    return ok(runtime_of(request).world.updates.items)
