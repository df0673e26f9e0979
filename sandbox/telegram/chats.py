"""Bot API methods about the bot, chats, members, commands, forum topics and files."""

from __future__ import annotations

import re
from typing import Any

from .messages import Handler
from .models import TOPIC_COLORS, Chat, Json, Topic
from .params import Params, bad_request
from .runtime import Runtime

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}


async def get_me(rt: Runtime, p: Params) -> Json:
    return {
        **rt.world.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def log_out(rt: Runtime, p: Params) -> bool:
    return True


async def get_chat(rt: Runtime, p: Params) -> Json:
    chat = rt.chat(p.chat_ref())
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def member_status(chat: Chat, user_id: int) -> str:
    if chat.type == "private":
        return "member" if user_id in chat.members else "left"
    if user_id == chat.creator_id:
        return "creator"
    if user_id in chat.admins:
        return "administrator"
    return "member" if user_id in chat.members else "left"


async def get_chat_member(rt: Runtime, p: Params) -> Json:
    chat = rt.chat(p.chat_ref())
    user_id = p.get_int("user_id", required="user_id is empty") or 0
    user = rt.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    status = member_status(chat, user_id)
    data: Json = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_pin_messages",
                    "can_manage_topics",
                    "can_send_welcome_messages",
                ),
                True,
            ),
            can_be_edited=False,
            is_anonymous=False,
        )
    return data


# commands ------------------------------------------------------------------------------


def _scope_key(p: Params) -> tuple[str, int | None, int | None, str]:
    scope = p.get_json("scope") or {"type": "default"}
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind not in _SCOPES:
        raise bad_request("can't parse BotCommandScope")
    chat_id = scope.get("chat_id") if kind.startswith("chat") else None
    user_id = scope.get("user_id") if kind == "chat_member" else None
    if kind.startswith("chat") and chat_id is None:
        raise bad_request("chat_id is empty")
    if chat_id is not None:
        chat_id = _chat_id(chat_id)
    language = p.get_str("language_code") or ""
    return kind, chat_id, int(user_id) if user_id is not None else None, language


def _chat_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None


async def set_my_commands(rt: Runtime, p: Params) -> bool:
    commands = p.get_json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands must be an array")
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command"))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = _scope_key(p)
    stored = [{"command": c["command"], "description": c["description"]} for c in commands]
    if stored:
        rt.world.commands[key] = stored
    else:
        rt.world.commands.pop(key, None)
    return True


async def get_my_commands(rt: Runtime, p: Params) -> list[Json]:
    return list(rt.world.commands.get(_scope_key(p), []))


async def delete_my_commands(rt: Runtime, p: Params) -> bool:
    rt.world.commands.pop(_scope_key(p), None)
    return True


# forum topics -----------------------------------------------------------------------------


def _publish_topic(rt: Runtime, kind: str, chat: Chat, topic: Topic) -> None:
    rt.world.bus.publish(kind, {"chat_id": chat.id, "topic": topic.control_view()})


# Topic names as the Bot API server treats them: it hands `name` to TDLib, whose `clean_name`
# (td/telegram/misc.cpp) turns odd spaces into spaces, trims, truncates to 128 *Unicode code
# points* (`utf8_truncate`, not UTF-16 code units, not bytes), drops names made only of
# invisible characters and collapses runs of spaces and newlines. A longer name is cut, not
# refused; an empty one is "Bad Request: title must be non-empty".
TOPIC_NAME_LIMIT = 128
_ODD_SPACES = frozenset(
    "\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u2800\u3000\ufffc"
)
_INVISIBLE = frozenset(" \n\u200b\u200c\u200d\u200e\u200f\u202e\ufeff\u00a0")
_TRIM = " \t\r\n\x00\x0b\x0c"


def clean_topic_name(raw: str, limit: int = TOPIC_NAME_LIMIT) -> str:
    """TDLib's `clean_name(name, 128)`: what Telegram stores as the topic's name."""
    spaced = "".join(" " if c in _ODD_SPACES or 0xE0000 <= ord(c) <= 0xE007F else c for c in raw)
    cut = spaced.strip(_TRIM)[:limit].strip(_TRIM)
    if all(c in _INVISIBLE for c in cut):
        return ""
    return re.sub("[ \n\u00a0]+", " ", cut).strip(_TRIM)


async def create_forum_topic(rt: Runtime, p: Params) -> Json:
    chat = rt.chat(p.chat_ref())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    name = clean_topic_name(p.get_str("name") or "")
    if not name:
        raise bad_request("title must be non-empty")
    color = p.get_int("icon_color") or TOPIC_COLORS[0]
    if color not in TOPIC_COLORS:
        raise bad_request("ICON_COLOR_INVALID")
    service = rt.world.add_message(chat, rt.world.bot.id)
    topic = Topic(service.message_id, name, color, p.get_str("icon_custom_emoji_id"))
    chat.topics[topic.message_thread_id] = topic
    service.message_thread_id = topic.message_thread_id
    service.service = {"forum_topic_created": topic.to_api()}
    _publish_topic(rt, "topic_created", chat, topic)
    return topic.to_api()


async def edit_forum_topic(rt: Runtime, p: Params) -> bool:
    chat = rt.chat(p.chat_ref())
    topic = rt.topic(chat, p.get_int("message_thread_id"))
    name = p.get_str("name") or None  # empty: keep the current name
    emoji = p.get_str("icon_custom_emoji_id")
    if name is not None:
        name = clean_topic_name(name)
        if not name:
            raise bad_request("title must be non-empty")
    changed = (name is not None and name != topic.name) or (
        emoji is not None and emoji != topic.icon_custom_emoji_id
    )
    if not changed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = name if name is not None else topic.name
    topic.icon_custom_emoji_id = emoji if emoji is not None else topic.icon_custom_emoji_id
    _publish_topic(rt, "topic_edited", chat, topic)
    return True


async def _set_closed(rt: Runtime, p: Params, closed: bool) -> bool:
    chat = rt.chat(p.chat_ref())
    topic = rt.topic(chat, p.get_int("message_thread_id"))
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    _publish_topic(rt, "topic_closed" if closed else "topic_reopened", chat, topic)
    return True


async def close_forum_topic(rt: Runtime, p: Params) -> bool:
    return await _set_closed(rt, p, True)


async def reopen_forum_topic(rt: Runtime, p: Params) -> bool:
    return await _set_closed(rt, p, False)


def delete_topic(rt: Runtime, chat: Chat, topic: Topic) -> None:
    topic.deleted = True
    for message in chat.messages.values():
        if message.message_thread_id == topic.message_thread_id:
            message.deleted = True
    _publish_topic(rt, "topic_deleted", chat, topic)


async def delete_forum_topic(rt: Runtime, p: Params) -> bool:
    chat = rt.chat(p.chat_ref())
    delete_topic(rt, chat, rt.topic(chat, p.get_int("message_thread_id")))
    return True


# files ------------------------------------------------------------------------------------


async def get_file(rt: Runtime, p: Params) -> Json:
    file_id = p.get_str("file_id", required="file_id is empty") or ""
    stored = rt.world.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.to_api_file()


METHODS: dict[str, Handler] = {
    "getme": get_me,
    "logout": log_out,
    "close": log_out,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "createforumtopic": create_forum_topic,
    "editforumtopic": edit_forum_topic,
    "closeforumtopic": close_forum_topic,
    "reopenforumtopic": reopen_forum_topic,
    "deleteforumtopic": delete_forum_topic,
    "getfile": get_file,
}
