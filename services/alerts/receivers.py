"""Who a routed alert group's receivers are, in Telegram chats (services/alerts/routing.py).

`admin`, `support` and `security` are ADMIN_CHAT_ID, SUPPORT_CHAT_ID and SECURITY_CHAT_ID; any
other name is one of `alerts.telegram_chats`; a number is a chat id. A role is the private chat
of the person on call for it (`/oncall`, services.roster.on_call_for).

Nothing is lost: when a group's receivers name somebody but none of them can be reached (the
setting is unset, nobody holds the role, the receiver was removed from RULES_FILE), the message
goes to the admin chat instead. A receiver that names nobody at all is Alertmanager's "null"
receiver: the group is stored and listed, and pushed nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loguru import logger

from services import roster
from services.alerts.config import AlertsRules
from services.storage.types import Executor


@dataclass(frozen=True)
class Chats:
    admin: int | None
    support: int | None = None
    security: int | None = None

    def named(self, name: str) -> int | None:
        return {"admin": self.admin, "support": self.support, "security": self.security}.get(name)


@dataclass(frozen=True)
class Reach:
    """A receiver in people's words, for `quickcart-ops alerts route`."""

    name: str
    chats: tuple[str, ...]
    roles: tuple[str, ...]
    channels: tuple[str, ...]


def chat_id_of(chat: str | int, config: AlertsRules, known: Chats) -> int | None:
    if isinstance(chat, int):
        return chat
    if chat in ("admin", "support", "security"):
        return known.named(chat)
    return config.telegram_chats.get(chat)


async def chats(db: Executor, names: Sequence[str], config: AlertsRules, known: Chats) -> list[int]:
    """The chat ids the receivers `names` reach, each once, in order."""
    found: list[int] = []
    wanted = False
    for name in names:
        receiver = config.receiver(name)
        if receiver is None:
            logger.warning("alert receiver {} is no longer in RULES_FILE", name)
            wanted = True
            continue
        wanted = wanted or bool(receiver.chats or receiver.roles)
        for chat in receiver.chats:
            chat_id = chat_id_of(chat, config, known)
            if chat_id is None:
                logger.warning("alert receiver {}: chat {} is not set", name, chat)
            elif chat_id not in found:
                found.append(chat_id)
        for role in receiver.roles:
            on_call = await roster.on_call_for(db, role)
            if not on_call:
                logger.warning("alert receiver {}: nobody holds the role {}", name, role)
            elif on_call[0].user_id not in found:
                found.append(on_call[0].user_id)
    if wanted and not found and known.admin is not None:
        return [known.admin]
    return found


def reach(config: AlertsRules, names: Sequence[str]) -> list[Reach]:
    found: list[Reach] = []
    for name in names:
        receiver = config.receiver(name)
        if receiver is None:
            continue
        found.append(
            Reach(
                name=name,
                chats=tuple(str(c) for c in receiver.chats),
                roles=tuple(str(r) for r in receiver.roles),
                channels=tuple(receiver.channels),
            )
        )
    return found
