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
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

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
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False

    def to_api(self) -> Json:
        data: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass
class Topic:
    message_thread_id: int
    name: str
    icon_color: int = TOPIC_COLORS[0]
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> Json:
        data: Json = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data

    def control_view(self) -> Json:
        return {**self.to_api(), "closed": self.closed, "deleted": self.deleted}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # "photo" | "document"
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def photo_size(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": len(self.data),
        }

    def document(self) -> Json:
        data: Json = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def to_api_file(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class Message:
    chat_id: int
    message_id: int
    from_id: int
    date: int
    text: str | None = None
    entities: list[Json] = field(default_factory=list)
    html: str | None = None  # the text (or caption) as Telegram HTML, for rendering
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[Json] = field(default_factory=list)
    photo: StoredFile | None = None
    document: StoredFile | None = None
    reply_markup: Json | None = None
    message_thread_id: int | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False
    service: Json | None = None  # e.g. {"forum_topic_created": {...}}
    forward_origin: Json | None = None
    link_preview_options: Json | None = None

    def content_key(self) -> tuple[Any, ...]:
        return (self.text, self.entities, self.caption, self.caption_entities, self.reply_markup)


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    creator_id: int | None = None
    migrated_to: int | None = None
    messages: dict[int, Message] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    next_message_id: int = 1
    private_user: User | None = None

    def to_api(self) -> Json:
        data: Json = {"id": self.id, "type": self.type}
        if self.type == "private" and self.private_user is not None:
            user = self.private_user
            data["first_name"] = user.first_name
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        data["title"] = self.title or ""
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def control_view(self) -> Json:
        return {
            **self.to_api(),
            "members": sorted(self.members),
            "admins": sorted(self.admins),
            "creator_id": self.creator_id,
            "migrated_to": self.migrated_to,
            "message_count": sum(1 for m in self.messages.values() if not m.deleted),
        }


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def control_view(self) -> Json:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


@dataclass
class WebhookConfig:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


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
        self._changed.set()
        self._changed = asyncio.Event()
        return update

    def confirm(self, offset: int) -> None:
        if offset < 0:
            self.items = self.items[offset:]
        else:
            self.items = [u for u in self.items if u.get("update_id", 0) >= offset]

    def clear(self) -> None:
        self.items.clear()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


class World:
    def __init__(self, bot: User, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock
        self.bus = EventBus()
        self.users: dict[int, User] = {bot.id: bot}
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
            chat_id = -(1001000000000 + serial) if type == "supergroup" else -(4000000 + serial)
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
