"""Privileged commands sent where they do not apply: answered and audited, never passed on.

`services.staff.COMMANDS` says in which kinds of chat each privileged command works (the admin
chat, the support group, a private chat). This router comes first (handlers/__init__.py), so a
support-group command in a private chat is refused here instead of reaching the customer's
conversation (and being copied into their ticket), and an admin command in the support group or
in a stranger's group gets an answer instead of silence. Where a command does apply, its own
handler checks the person's roles against the same table.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import Chat, Message
from aiogram.utils.i18n import gettext as _

from handlers.routes import Routes
from services import staff
from services.chats import StaffChats
from services.staff import ChatKind, CommandRule
from services.tickets import store
from services.users import Person

router = Routes(__name__)


async def chat_kinds(chat: Chat, chats: StaffChats, pool: asyncpg.Pool) -> frozenset[ChatKind]:
    """What a chat is to the bot; one group may be both the admin chat and the support group."""
    if chat.type == "private":
        return frozenset({ChatKind.PRIVATE})
    kinds = set()
    if chat.id == chats.admin:
        kinds.add(ChatKind.ADMIN)
    if chat.id == chats.support or await store.is_support_chat(pool, chat.id):
        kinds.add(ChatKind.SUPPORT)
    if chats.incidents is not None and chat.id == chats.incidents:
        kinds.add(ChatKind.INCIDENTS)
    return frozenset(kinds or {ChatKind.OTHER})


class Misplaced(BaseFilter):
    """A privileged command (matched by `Command` first) in a chat where it does not apply."""

    async def __call__(
        self, message: Message, command: CommandObject, chats: StaffChats, pool: asyncpg.Pool
    ) -> bool | dict[str, Any]:
        rule = staff.COMMANDS[command.command]
        kinds = await chat_kinds(message.chat, chats, pool)
        if kinds & rule.chats:
            return False
        return {"rule": rule, "kinds": kinds}


def not_here(command: str, rule: CommandRule) -> str:
    """Where the command does work, as one sentence."""
    if rule.chats == staff.ADMIN_SIDE:
        text = _(
            "/{command} works only in the admin chat or in a private chat with me. "
            "This attempt was recorded."
        )
    elif rule.chats == staff.SUPPORT_SIDE:
        text = _("/{command} works only in the support group. This attempt was recorded.")
    elif rule.chats == staff.ROOM_SIDE:
        text = _(
            "/{command} works only in an incident's room (its topic in the incidents chat). "
            "This attempt was recorded."
        )
    elif rule.chats == staff.ROOM_SIDE | staff.SUPPORT_SIDE:
        text = _(
            "/{command} works only in an incident's room or in a customer-facing incident's "
            "topic of the support group. This attempt was recorded."
        )
    elif rule.chats == staff.ADMIN_SIDE | staff.SUPPORT_SIDE:
        text = _(
            "/{command} works only in the admin chat, the support group or a private chat "
            "with me. This attempt was recorded."
        )
    else:
        text = _("/{command} does not work in this chat. This attempt was recorded.")
    return text.format(command=command)


@router.message(Command(*staff.COMMANDS), Misplaced())
async def refuse_misplaced(
    message: Message,
    command: CommandObject,
    rule: CommandRule,
    kinds: frozenset[ChatKind],
    person: Person | None,
    pool: asyncpg.Pool,
) -> None:
    action = rule.action_for(command.args)
    await staff.refuse(
        pool, person, action, target=f"/{command.command}", chat_id=message.chat.id,
        reason="not_here", chat=sorted(kinds),
    )  # fmt: skip
    if staff.may_person(person, action):
        await message.answer(not_here(command.command, rule))
        return
    await message.answer(
        _("Sorry, your role cannot use /{command}. This attempt was recorded.").format(
            command=command.command
        )
    )
