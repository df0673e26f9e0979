"""What the emulated people do: write to the bot, press its buttons.

Each action stores the message (or callback query) as Telegram would, tells the event bus
and queues the update for the bot.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from . import entities as fmt
from .messages import publish
from .models import (
    CHANNEL_BOT_ID,
    GROUP_ANONYMOUS_BOT_ID,
    CallbackQuery,
    Chat,
    Json,
    Message,
    StoredFile,
    User,
)
from .runtime import Runtime


class ActionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Attachment:
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


def tiny_png(
    width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (52, 120, 200)
) -> bytes:
    """A valid single-colour PNG, for users who "send a photo" without giving one."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _user(rt: Runtime, user_id: int) -> User:
    user = rt.world.users.get(user_id)
    if user is None or user.is_bot:
        raise ActionError(404, f"no user {user_id}: create it first")
    return user


def _chat(rt: Runtime, user: User, chat_id: int) -> Chat:
    chat = rt.world.chats.get(chat_id)
    if chat is None:
        raise ActionError(404, f"no chat {chat_id}")
    if chat.migrated_to is not None:
        raise ActionError(400, f"chat {chat_id} was migrated to {chat.migrated_to}")
    if chat.type == "private":
        if chat.id != user.id:
            raise ActionError(400, "a private chat with the bot has the user's own id")
        user.blocked_bot = False
        user.started = True
    else:
        chat.members.add(user.id)
    return chat


def _thread(chat: Chat, user: User, thread_id: int | None) -> int | None:
    if thread_id is None or not chat.is_forum or thread_id == 1:
        return None
    topic = chat.topics.get(thread_id)
    if topic is None or topic.deleted:
        raise ActionError(400, "message thread not found")
    if topic.closed and user.id not in chat.admins:
        raise ActionError(400, "TOPIC_CLOSED")
    return thread_id


def _sender(rt: Runtime, user: User, chat: Chat, as_chat: int | None) -> tuple[int, int | None]:
    """Who the message is from, as the bot sees it: the person, or (sending on behalf of a
    chat) Telegram's service account plus `sender_chat`. `as_chat` is the group itself (its
    anonymous admin) or a channel the person administers ("send as" the channel)."""
    if as_chat is None:
        return user.id, None
    if chat.type == "private":
        raise ActionError(400, "a private chat has no one to send as")
    if as_chat == chat.id:
        if user.id not in chat.admins:
            raise ActionError(400, "only an administrator can send as the group")
        return GROUP_ANONYMOUS_BOT_ID, chat.id
    channel = rt.world.chats.get(as_chat)
    if channel is None or channel.type != "channel":
        raise ActionError(400, f"chat {as_chat} is not a channel")
    if user.id not in channel.admins:
        raise ActionError(400, "only an administrator of the channel can send as it")
    return CHANNEL_BOT_ID, channel.id


def user_sends(
    rt: Runtime,
    *,
    user_id: int,
    chat_id: int,
    text: str | None = None,
    entities: list[Json] | None = None,
    photo: Attachment | None = None,
    document: Attachment | None = None,
    caption: str | None = None,
    thread_id: int | None = None,
    reply_to: int | None = None,
    as_chat: int | None = None,
) -> Message:
    user = _user(rt, user_id)
    chat = _chat(rt, user, chat_id)
    thread = _thread(chat, user, thread_id)
    from_id, sender_chat_id = _sender(rt, user, chat, as_chat)
    if reply_to is not None:
        target = chat.messages.get(reply_to)
        if target is None or target.deleted:
            raise ActionError(400, "message to be replied not found")
    if not text and photo is None and document is None:
        raise ActionError(400, "nothing to send: give text, photo or document")
    fields: dict[str, Any] = {
        "message_thread_id": thread,
        "reply_to": reply_to,
        "sender_chat_id": sender_chat_id,
    }
    if photo is not None or document is not None:
        stored = _store_file(rt, photo, "photo") if photo else _store_file(rt, document, "document")
        fields[stored.kind] = stored
        if caption:
            fields["caption"] = caption
            fields["caption_entities"] = fmt.detect_entities(caption)
            fields["html"] = fmt.entities_to_html(caption, fields["caption_entities"])
    else:
        assert text is not None
        found = entities if entities is not None else fmt.detect_entities(text)
        fields.update(text=text, entities=found, html=fmt.entities_to_html(text, found))
    message = rt.world.add_message(chat, from_id, **fields)
    publish(rt, "message_new", message)
    rt.world.updates.push("message", rt.world.message_to_api(message))
    return message


def _store_file(rt: Runtime, attachment: Attachment | None, kind: str) -> StoredFile:
    assert attachment is not None
    return rt.world.add_file(
        attachment.data, kind, file_name=attachment.file_name, mime_type=attachment.mime_type
    )


def _has_button(message: Message, data: str) -> bool:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return any(button.get("callback_data") == data for row in rows for button in row)


def user_presses(
    rt: Runtime, *, user_id: int, chat_id: int, message_id: int, data: str, force: bool = False
) -> CallbackQuery:
    """A press on an inline button; ``force`` sends data no button carries (a forged press)."""
    user = _user(rt, user_id)
    chat = _chat(rt, user, chat_id)
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ActionError(404, f"no message {message_id} in chat {chat_id}")
    if not force and not _has_button(message, data):
        raise ActionError(400, f"message {message_id} has no button with callback_data {data!r}")
    query = rt.world.new_callback(user.id, chat.id, message_id, data)
    payload: Json = {
        "id": query.id,
        "from": user.to_api(),
        "message": rt.world.message_to_api(message),
        "chat_instance": str(abs(chat.id) * 31 + rt.world.bot.id),
        "data": data,
    }
    rt.world.updates.push("callback_query", payload)
    return query


def user_reacts(
    rt: Runtime, *, user_id: int, chat_id: int, message_id: int, emoji: list[str]
) -> Json:
    """A person sets their reactions on a message (an empty list takes them back). The bot
    hears it as a `message_reaction` update, only when it asked for those (Telegram does not
    send them by default) and is an administrator of the group, as Telegram requires."""
    user = _user(rt, user_id)
    chat = _chat(rt, user, chat_id)
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ActionError(404, f"no message {message_id} in chat {chat_id}")
    old = message.reactions.get(user.id, [])
    if emoji:
        message.reactions[user.id] = list(emoji)
    else:
        message.reactions.pop(user.id, None)
    payload: Json = {
        "chat": chat.to_api(),
        "message_id": message_id,
        "user": user.to_api(),
        "date": rt.world.now(),
        "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
        "new_reaction": [{"type": "emoji", "emoji": e} for e in emoji],
    }
    rt.world.bus.publish("message_reaction", {"chat_id": chat.id, **payload})
    if chat.type == "private" or rt.world.bot.id in chat.admins:
        rt.world.updates.push("message_reaction", payload)
    return payload
