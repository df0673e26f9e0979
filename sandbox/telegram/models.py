"""The things in the emulated world, each able to show itself in Bot API shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

# The service accounts Telegram puts in `from` when a message is sent on behalf of a chat:
# "send as" a channel (or a linked channel's post in its discussion group), and a group's
# anonymous administrator. The real chat is in the message's `sender_chat`.
CHANNEL_BOT_ID = 136817688
GROUP_ANONYMOUS_BOT_ID = 1087968824


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    blocked_bot: bool = False
    # Wrote to the bot in private (pressed Start) at least once: until then Telegram refuses
    # the bot's private messages ("bot can't initiate conversation with a user").
    started: bool = False

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
    sender_chat_id: int | None = None  # sent on behalf of this chat (channel or anonymous admin)
    pinned: bool = False  # pinChatMessage
    # reactions by user id (emoji list), as people set them; message_reaction updates tell them
    reactions: dict[int, list[str]] = field(default_factory=dict)

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
