"""What every Bot API method and control endpoint shares, plus the common checks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import entities as fmt
from .config import EmulatorConfig
from .faults import FaultInjector
from .markdown import parse_markdown_v2
from .models import Chat, Json, Message, Topic, User
from .params import ApiError, Params, bad_request, forbidden
from .ratelimit import RateLimiter
from .state import EventBus, World

MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    sends: Counter[str] = field(default_factory=Counter)
    # "method: description" of every error answer (tests assert the bot caused none)
    errors: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.calls.clear()
        self.sends.clear()
        self.errors.clear()


class Runtime:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.bus = EventBus()
        self.world = World(_bot_user(config), self.bus)
        self.limiter = RateLimiter(config.limits)
        self.faults = FaultInjector(config.faults)
        self.stats = Stats()

    def reset(self) -> None:
        self.world = World(_bot_user(self.config), self.bus)
        self.limiter.reconfigure(self.config.limits)
        self.limiter.reset()
        self.faults.configure(self.config.faults)
        self.faults.injected.clear()
        self.stats.reset()

    # lookups ----------------------------------------------------------------------

    def chat(self, ref: int | str, *, for_sending: bool = False) -> Chat:
        world = self.world
        if isinstance(ref, str):
            found = next((c for c in world.chats.values() if f"@{c.username}" == ref), None)
            if found is None:
                found = next(
                    (
                        world.chats[u.id]
                        for u in world.users.values()
                        if u.username and f"@{u.username}" == ref and u.id in world.chats
                    ),
                    None,
                )
        else:
            found = world.chats.get(ref)
        if found is None:
            raise bad_request("chat not found")
        if found.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": found.migrated_to},
            )
        user = found.private_user
        if for_sending and found.type == "private" and user is not None and user.blocked_bot:
            raise forbidden("bot was blocked by the user")
        if for_sending and found.type == "private" and user is not None and not user.started:
            raise forbidden("bot can't initiate conversation with a user")
        if found.type != "private" and world.bot.id not in found.members:
            raise forbidden("bot is not a member of the group chat")
        return found

    def message(self, chat: Chat, message_id: int | None, missing: str) -> Message:
        message = chat.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def thread(self, chat: Chat, thread_id: int | None) -> int | None:
        """The topic a new message goes to (None: the chat itself or the General topic)."""
        if thread_id is None or not chat.is_forum:
            return None
        if thread_id == 1:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return thread_id

    def topic(self, chat: Chat, thread_id: int | None) -> Topic:
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        topic = chat.topics.get(thread_id or 0)
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return topic

    def check_rate(self, method: str, chat: Chat) -> None:
        wait = self.limiter.acquire(chat.id, chat.type != "private")
        if wait:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        self.stats.sends[method] += 1

    # text and markup ----------------------------------------------------------------

    def formatted(
        self, p: Params, text_key: str, entities_key: str, *, caption: bool
    ) -> tuple[str, list[Json], str | None, str | None]:
        """(plain text, entities, html, parse_mode) after Telegram's parsing and checks."""
        raw = p.get_str(text_key) or ""
        parse_mode = p.get_str("parse_mode")
        explicit = p.get_json(entities_key)
        try:
            if explicit:
                parsed = fmt.Parsed(raw, fmt.validate_entities(raw, explicit))
                parse_mode = None
            elif parse_mode and parse_mode.lower() == "html":
                parsed = fmt.parse_html(raw, strict_ampersand=self.config.strict_ampersand)
            elif parse_mode and parse_mode.lower() == "markdownv2":
                parsed = parse_markdown_v2(raw)
            elif parse_mode and parse_mode.lower() != "markdown":
                raise bad_request("unsupported parse_mode")
            else:
                parsed = fmt.Parsed(raw.strip(), [])
        except fmt.EntityParseError as error:
            raise bad_request(str(error)) from None
        length = fmt.utf16_len(parsed.text)
        if caption:
            if length > MAX_CAPTION:
                raise bad_request("message caption is too long")
        else:
            if not parsed.text.strip():
                raise bad_request("message text is empty")
            if length > MAX_TEXT:
                raise bad_request("message is too long")
        source = raw if parse_mode and parse_mode.lower() == "html" else None
        html = source or fmt.entities_to_html(parsed.text, parsed.entities)
        return parsed.text, parsed.entities, html, parse_mode

    def reply_markup(self, p: Params) -> Json | None:
        markup = p.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard"')
            for row in rows:
                for button in row:
                    _check_button(button)
        return markup

    def reply_to(self, p: Params, chat: Chat) -> int | None:
        params = p.get_json("reply_parameters") or {}
        message_id = params.get("message_id") or p.get_int("reply_to_message_id")
        if not message_id:
            return None
        allow = params.get("allow_sending_without_reply") or p.get_bool(
            "allow_sending_without_reply"
        )
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("BUTTON_TEXT_EMPTY" if isinstance(button, dict) else "BUTTON_INVALID")
    if "callback_data" in button:
        data = str(button["callback_data"]).encode()
        if not 1 <= len(data) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        url = str(button["url"])
        if not url.startswith(("http://", "https://", "tg://")) or len(url) < 9:
            raise bad_request("BUTTON_URL_INVALID")
    elif not any(
        key in button
        for key in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
    ):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")


def _bot_user(config: EmulatorConfig) -> User:
    return User(
        id=config.bot_id,
        first_name=config.bot_first_name,
        username=config.bot_username,
        is_bot=True,
    )
