"""The roster in chat: `/staff`, `/staff add <user id or reply> <role...>`, `/staff remove`.
Only admins change it (services.staff.PERMISSIONS). On-call (`/oncall`) is handlers/oncall.py."""

from __future__ import annotations

import asyncpg
from aiogram import Bot
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.refusals import Usage
from handlers.routes import Routes
from services import audit, roster, staff, users
from services.escalation.render import role_label
from services.roster import RosterError
from services.staff import Action
from services.text import esc
from services.users import Person

router = Routes(__name__)


def roster_error(error: RosterError) -> str:
    return {
        "not_on_roster": _("That person is not on the staff roster."),
        "role_not_held": _("That person does not hold this role: add it with /staff add first."),
        "last_admin": _("The last admin cannot be removed."),
        "unknown_role": _("Unknown role. Roles: {roles}").format(
            roles=", ".join(r.value for r in users.Role)
        ),
    }.get(error.reason, _("That did not work."))


async def target_of(
    message: Message, words: list[str], pool: asyncpg.Pool
) -> tuple[int, str] | None:
    """The person a command is about: the replied-to message's sender, or a user id word."""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and not reply.from_user.is_bot:
        return reply.from_user.id, reply.from_user.first_name  # named as everywhere else
    if words and words[0].lstrip("-").isdigit():
        user_id = int(words.pop(0))
        known = await users.get(pool, user_id)
        return user_id, known.first_name if known and known.first_name else str(user_id)
    return None


def _line(m: roster.StaffMember) -> str:
    roles = ", ".join(role_label(r) for r in m.roles) or "—"
    mark = " 📟" if m.on_call else ""
    return f"• {esc(m.display_name)} (<code>{m.user_id}</code>): {esc(roles)}{mark}"


@router.message(Command("staff"))
async def cmd_staff(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool, bot: Bot
) -> None:
    words = (command.args or "").split()
    sub = words.pop(0).lower() if words else ""
    if sub in ("add", "remove"):
        await staff.require(
            pool, person, Action.CHANGE_ROSTER, target=command.args, chat_id=message.chat.id
        )
    else:
        await staff.require(pool, person, Action.VIEW_ROSTER, chat_id=message.chat.id)
    if sub == "":
        members = await roster.roster(pool)
        await message.answer("\n".join([_("<b>Staff roster</b>"), *map(_line, members)]))
        return
    if sub not in ("add", "remove"):
        raise Usage(
            _(
                "Usage: /staff, /staff add <user id or reply> <role...>, "
                "/staff remove <user id or reply>"
            )
        )
    target = await target_of(message, words, pool)
    if target is None:
        await message.answer(_("Reply to the person's message or give their Telegram user id."))
        return
    user_id, name = target
    try:
        if sub == "add":
            roles = roster.parse_roles(words)
            if not roles:
                raise RosterError("unknown_role")
            member = await roster.add_member(
                pool, user_id=user_id, display_name=name, roles=roles, added_by=person.id
            )
            text = _("{name} is on the roster: {roles}.").format(
                name=esc(member.display_name),
                roles=esc(", ".join(role_label(r) for r in member.roles)),
            )
            me = await bot.me()
            text += "\n" + _(
                "{name}: press Start in a private chat with @{bot} (or send it anything there); "
                "until then Telegram does not let the bot message you privately, so your pages "
                "go to the admin chat."
            ).format(name=esc(member.display_name), bot=esc(me.username or ""))
        else:
            removed = await roster.remove_member(pool, user_id)
            if not removed:
                raise RosterError("not_on_roster")
            text = _("{name} is no longer on the roster.").format(name=esc(name))
    except RosterError as error:
        await message.answer(roster_error(error))
        return
    await audit.record(
        pool,
        actor_id=person.id,
        action=f"roster.{sub}",
        allowed=True,
        target=str(user_id),
        chat_id=message.chat.id,
        details={"roles": words},
    )
    await message.answer(text)
