"""The emulated Telegram world: users, chats, topics, messages, files, the bot's update queue.

Everything a Bot API method or a control endpoint reads or changes lives in one ``World``.
Objects know how to show themselves in Bot API shape (``to_api``); the HTTP layers only
validate input and call into here. An in-process ``EventBus`` tells watchers (the web page,
tests) what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import secrets
import time
from collections.abc import Callable
from typing import Any

from .models import (
    CHANNEL_BOT_ID,
    GROUP_ANONYMOUS_BOT_ID,
    CallbackQuery,
    Chat,
    Json,
    Message,
    StoredFile,
    User,
    WebhookConfig,
)

ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
)
# Telegram's default when allowed_updates was never given: everything but these.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class EventBus:
    """Fan-out of world events to subscribers, each holding a bounded asyncio queue."""

    def __init__(self, maxsize: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Json]] = set()
        self._maxsize = maxsize

    def subscribe(self) -> asyncio.Queue[Json]:
        queue: asyncio.Queue[Json] = asyncio.Queue(self._maxsize)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Json]) -> None:
        self._subscribers.discard(queue)

    def publish(self, kind: str, payload: Json) -> None:
        event = {"type": kind, **payload}
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)


class UpdateQueue:
    """The bot's pending updates, with long-poll wake-ups."""

    def __init__(self) -> None:
        self.items: list[Json] = []
        self.next_update_id = 1
        self.allowed_updates: frozenset[str] | None = None
        self.poll_generation = 0
        self.closing = False  # the emulator is stopping: long polls answer at once
        self._changed = asyncio.Event()

    def allows(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed_updates

    def push(self, kind: str, payload: Json) -> Json | None:
        if not self.allows(kind):
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        return self.push_raw(update)

    def push_raw(self, update: Json) -> Json:
        self.items.append(update)
        if isinstance(update.get("update_id"), int):
            self.next_update_id = max(self.next_update_id, update["update_id"] + 1)
        self.wake()
        return update

    def wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def confirm(self, offset: int) -> None:
        if offset < 0:
            self.items = self.items[offset:]
        else:
            self.items = [u for u in self.items if u.get("update_id", 0) >= offset]

    def clear(self) -> None:
        self.items.clear()

    async def wait(self, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # arrives just as the event is set, and the webhook deliverer then never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()


class World:
    def __init__(
        self, bot: User, bus: EventBus | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.bot = bot
        self.clock = clock
        self.bus = bus or EventBus()
        self.users: dict[int, User] = {bot.id: bot}
        for service in (
            User(CHANNEL_BOT_ID, "Channel", username="Channel_Bot", is_bot=True),
            User(GROUP_ANONYMOUS_BOT_ID, "Group", username="GroupAnonymousBot", is_bot=True),
        ):
            self.users[service.id] = service
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.updates = UpdateQueue()
        self.webhook = WebhookConfig()
        self.commands: dict[tuple[str, int | None, int | None, str], list[Json]] = {}
        self._ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def now(self) -> int:
        return int(self.clock())

    # users and chats ---------------------------------------------------------------

    def upsert_user(self, user_id: int, **fields: Any) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = User(id=user_id, first_name=fields.pop("first_name", None) or f"User {user_id}")
            self.users[user_id] = user
        for key, value in fields.items():
            if value is not None and hasattr(user, key):
                setattr(user, key, value)
        if not user.is_bot and user_id not in self.chats:
            self.chats[user_id] = Chat(id=user_id, type="private", private_user=user)
            self.chats[user_id].members = {user_id, self.bot.id}
        return user

    def create_group(
        self,
        *,
        title: str,
        type: str = "supergroup",
        is_forum: bool = False,
        members: list[int] | None = None,
        admins: list[int] | None = None,
        chat_id: int | None = None,
        username: str | None = None,
    ) -> Chat:
        if chat_id is None:
            serial = next(self._group_ids)
            long_id = type in ("supergroup", "channel")
            chat_id = -(1001000000000 + serial) if long_id else -(4000000 + serial)
        admin_ids = set(admins or [])
        chat = Chat(
            id=chat_id,
            type=type,
            title=title,
            username=username,
            is_forum=is_forum and type == "supergroup",
            members={self.bot.id, *(members or []), *admin_ids},
            admins={self.bot.id, *admin_ids},
            creator_id=next(iter(sorted(admin_ids)), None),
        )
        chat.next_message_id = 2  # 1 is the "group created" service message
        self.chats[chat_id] = chat
        return chat

    def migrate(self, chat: Chat) -> Chat:
        new = self.create_group(
            title=chat.title or "",
            type="supergroup",
            members=sorted(chat.members),
            admins=sorted(chat.admins - {self.bot.id}),
        )
        new.creator_id = chat.creator_id
        chat.migrated_to = new.id
        return new

    # messages ---------------------------------------------------------------------

    def add_message(self, chat: Chat, from_id: int, **fields: Any) -> Message:
        message = Message(
            chat_id=chat.id, message_id=chat.next_message_id, from_id=from_id, date=self.now()
        )
        chat.next_message_id += 1
        for key, value in fields.items():
            setattr(message, key, value)
        chat.messages[message.message_id] = message
        return message

    def message_to_api(self, message: Message, *, with_reply: bool = True) -> Json:
        chat = self.chats[message.chat_id]
        sender = self.users.get(message.from_id) or User(id=message.from_id, first_name="?")
        data: Json = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat.to_api(),
            "from": sender.to_api(),
        }
        if message.sender_chat_id is not None:
            data["sender_chat"] = self.chats[message.sender_chat_id].to_api()
        if message.message_thread_id is not None:
            data["message_thread_id"] = message.message_thread_id
            data["is_topic_message"] = True
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.photo is not None:
            data["photo"] = [message.photo.photo_size()]
        if message.document is not None:
            data["document"] = message.document.document()
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.forward_origin is not None:
            data["forward_origin"] = message.forward_origin
        if message.link_preview_options:
            data["link_preview_options"] = message.link_preview_options
        if message.service:
            data.update(message.service)
        if with_reply and message.reply_to is not None:
            replied = chat.messages.get(message.reply_to)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self.message_to_api(replied, with_reply=False)
        return data

    def message_view(self, message: Message) -> Json:
        """The API shape plus what the control API and the web page need."""
        view = self.message_to_api(message)
        view.update(
            html=message.html,
            parse_mode=message.parse_mode,
            edit_count=message.edit_count,
            deleted=message.deleted,
            reply_markup=message.reply_markup,
            is_service=message.service is not None,
            pinned=message.pinned,
            reactions={str(k): v for k, v in message.reactions.items()},
        )
        return view

    # files --------------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        serial = next(self._ids)
        prefix = "AgACAgIAAxkBAA" if kind == "photo" else "BQACAgIAAxkBAA"
        width, height = _image_size(data) if kind == "photo" else (0, 0)
        extension = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else ""
        extension = extension or ("jpg" if kind == "photo" else "bin")
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AQAD" + hashlib.sha1(data + bytes([serial % 256])).hexdigest()[:12],
            data=data,
            kind=kind,
            file_path=f"{folder}/file_{serial}.{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)

    # callback queries ---------------------------------------------------------------

    def new_callback(self, user_id: int, chat_id: int, message_id: int, data: str) -> CallbackQuery:
        query_id = str(4_000_000_000_000_000 + next(self._callback_ids) * 7919)
        query = CallbackQuery(query_id, user_id, chat_id, message_id, data, self.clock())
        self.callbacks[query_id] = query
        return query


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG, or a plausible default."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(
                    data[i + 5 : i + 7], "big"
                )
            i += 2 + length
    return 320, 240
