"""/email in a private chat: link an e-mail address to the Telegram account (one history for a
customer who writes both ways). `/email name@example.com` sends a code to that address;
`/email 123456` sends it back; `/email` alone tells how, and which addresses are linked."""

from __future__ import annotations

import asyncpg
from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from handlers.routes import Routes
from services.clock import Clock
from services.email import link, store
from services.email.config import EmailConfig
from services.text import esc
from services.users import Person

router = Routes(__name__)
router.message.filter(F.chat.type == "private")

REFUSALS = {
    "bad_address": lambda: _("That does not look like an e-mail address."),
    "too_many": lambda: _("Too many codes were requested. Please try again in an hour."),
    "no_code": lambda: _("There is no code waiting. Send /email followed by your address first."),
    "wrong_code": lambda: _("That code is not right. Please check the e-mail and try again."),
    "expired": lambda: _("Too many wrong codes; that code no longer works. Ask for a new one."),
}


@router.message(Command("email"))
async def cmd_email(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool, redis: Redis,
    clock: Clock, email: EmailConfig | None,
) -> None:  # fmt: skip
    if email is None:  # the channel needs SUPPORT_EMAIL, IMAP_URL and SMTP_URL
        await message.answer(_("Support by e-mail is not available."))
        return
    argument = (command.args or "").strip()
    try:
        if link.is_code(argument):
            linked = await link.confirm(pool, redis, clock, person, argument, message.chat.id)
            await message.answer(
                _(
                    "Done: {address} is linked to your account. Your e-mail tickets are now "
                    "under My tickets too."
                ).format(address=esc(linked.address))
            )
            return
        if argument:
            address = await link.request(pool, redis, clock, person, argument)
            await message.answer(
                _(
                    "We sent a 6-digit code to {address}. Send it here as /email followed by "
                    "the code, within 30 minutes."
                ).format(address=esc(address))
            )
            return
    except link.LinkError as refused:
        await message.answer(REFUSALS[refused.reason]())
        return
    linked_now = await store.addresses_of(pool, person.id)
    text = _(
        "Link your e-mail address, so what you write to {support} and here is one history: "
        "send /email followed by your address."
    ).format(support=esc(email.address))
    if linked_now:
        text += "\n" + _("Linked: {addresses}").format(addresses=esc(", ".join(linked_now)))
    await message.answer(text)
