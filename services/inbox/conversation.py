"""Which ordered stream an update belongs to, read from the raw update as Telegram sent it.

A conversation is a private chat, a forum topic, or a group without topics: its updates are
handled one at a time, in update_id order; different conversations are handled side by side
(order matters within a conversation, not across one chat's topics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Update fields that carry a message-like object with a chat.
_MESSAGE_FIELDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
_CHAT_FIELDS = (
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
)


@dataclass(frozen=True)
class Stream:
    key: str
    # Private-chat messages and button presses count against the flood limit.
    limited: bool


def _message_stream(message: dict[str, Any]) -> Stream | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or "id" not in chat:
        return None
    thread = message.get("message_thread_id") if message.get("is_topic_message") else None
    key = f"{chat['id']}" if thread is None else f"{chat['id']}:{thread}"
    return Stream(key, chat.get("type") == "private")


def stream_of(update: dict[str, Any]) -> Stream:
    for name in _MESSAGE_FIELDS:
        message = update.get(name)
        if isinstance(message, dict) and (stream := _message_stream(message)):
            return stream
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and (stream := _message_stream(message)):
            return stream
        sender = query.get("from") or {}
        return Stream(f"user:{sender.get('id')}", True)
    for name in _CHAT_FIELDS:
        event = update.get(name)
        if isinstance(event, dict) and isinstance(event.get("chat"), dict):
            return Stream(f"{event['chat'].get('id')}", False)
    for event in update.values():
        if isinstance(event, dict) and isinstance(event.get("from"), dict):
            return Stream(f"user:{event['from'].get('id')}", False)
    return Stream(f"update:{update.get('update_id')}", False)
