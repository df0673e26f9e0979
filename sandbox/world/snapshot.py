"""Keep the emulated Telegram across sandbox restarts: chats, topics, messages, files.

The bot's own data survives in PostgreSQL under DATA_DIR; without this the chats it refers to
(forum topics of open tickets, message ids to edit) would be gone after a restart, and the
update ids would start again at 1, which the bot's de-duplication would silently drop.
Written as JSON on stop (and now and then while running), read before the emulator serves.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import os
from pathlib import Path
from typing import Any

from sandbox.telegram.models import Chat, Message, StoredFile, Topic, User
from sandbox.telegram.state import World

VERSION = 1


def _file(stored: StoredFile) -> dict[str, Any]:
    data = dataclasses.asdict(stored)
    data["data"] = base64.b64encode(stored.data).decode()
    return data


def _message(message: Message) -> dict[str, Any]:
    data = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
    data["photo"] = message.photo.file_id if message.photo else None
    data["document"] = message.document.file_id if message.document else None
    return data


# A chat's fields saved as they are. The others: members and admins are sets (saved as sorted
# lists), topics and messages are saved one by one, the private chat's user is found by id.
_CHAT_FIELDS = (
    "id",
    "type",
    "title",
    "username",
    "is_forum",
    "creator_id",
    "migrated_to",
    "next_message_id",
)


def _chat(chat: Chat) -> dict[str, Any]:
    return {
        **{name: getattr(chat, name) for name in _CHAT_FIELDS},
        "members": sorted(chat.members),
        "admins": sorted(chat.admins),
        "topics": [dataclasses.asdict(t) for t in chat.topics.values()],
        "messages": [_message(m) for m in chat.messages.values()],
    }


def dump(world: World) -> str:
    """The world as JSON, read on the event loop's thread: the emulator changes its dicts while
    it serves, so a thread reading them meets "dictionary changed size during iteration"."""
    data = {
        "version": VERSION,
        "next_update_id": world.updates.next_update_id,
        "users": [dataclasses.asdict(u) for u in world.users.values() if not u.is_bot],
        "files": [_file(f) for f in world.files.values()],
        "chats": [_chat(c) for c in world.chats.values()],
    }
    return json.dumps(data, ensure_ascii=False)


def write(text: str, path: Path) -> None:
    """Replace the snapshot file at once (a thread may do this part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def save(world: World, path: Path) -> None:
    write(dump(world), path)


def load(world: World, path: Path) -> bool:
    """Fill an empty world from the snapshot; False when there is none."""
    if not path.exists():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != VERSION:
        return False
    for raw in data["users"]:
        user = User(**raw)
        world.users[user.id] = user
    for raw in data["files"]:
        raw = {**raw, "data": base64.b64decode(raw["data"])}
        stored = StoredFile(**raw)
        world.files[stored.file_id] = stored
    for raw in data["chats"]:
        chat = Chat(
            **{name: raw[name] for name in _CHAT_FIELDS},
            members=set(raw["members"]),
            admins=set(raw["admins"]),
            private_user=world.users.get(raw["id"]) if raw["type"] == "private" else None,
        )
        for topic in raw["topics"]:
            chat.topics[topic["message_thread_id"]] = Topic(**topic)
        for message in raw["messages"]:
            fields = dict(message)
            fields["photo"] = world.files.get(message["photo"]) if message["photo"] else None
            fields["document"] = (
                world.files.get(message["document"]) if message["document"] else None
            )
            stored_message = Message(**fields)
            chat.messages[stored_message.message_id] = stored_message
        world.chats[chat.id] = chat
    world.updates.next_update_id = int(data["next_update_id"])
    groups = sum(1 for c in world.chats.values() if c.type != "private")
    world._group_ids = itertools.count(groups + 1)
    world._ids = itertools.count(len(world.files) + 1)
    return True
