"""Incident rooms in chat: /lead, /comms, /update, /note, /followup, /postmortem and /timeline
inside a room (its topic, or a reply to its card), 📌 reactions on room messages, /followups.
Parse, call services.rooms, answer.

`/update` runs only inside a room (the chat and topic of an incident): the same command in
the support group belongs to the customer-facing incidents feature.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import F
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import CallbackQuery, Message, MessageReactionUpdated, ReactionTypeEmoji
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command
from handlers.buttons import Press, chat_of
from handlers.refusals import Usage, answers, require_command
from handlers.routes import Routes
from services import staff
from services.clock import Clock
from services.escalation.queries import timeline
from services.escalation.render import render_timeline
from services.escalation.store import get as get_incident
from services.massincident.config import MassContext
from services.postmortem import build as pm_build
from services.postmortem import draft
from services.rooms import actions, offers, store
from services.rooms.actions import (
    IncidentOver,
    NoSuchFollowup,
    NotARoom,
    RoomError,
    UnknownPerson,
)
from services.rooms.config import RoomsContext
from services.rooms.render_lists import followups_list
from services.rooms.render_offers import RoomOffer
from services.staff import Action, NotAllowed
from services.storage.db import transaction
from services.text import esc
from services.tickets.model import parse_ticket_number, ticket_number
from services.users import Person

router = Routes(__name__)
# What people write in a room (kept for 📌): late in the order, after every command handler.
talk = Routes(__name__ + ".talk")


async def room_of(message: Message, rooms: RoomsContext, pool: asyncpg.Pool) -> int | None:
    """The incident whose room this message is in: its topic, or a reply to its card."""
    if rooms.chat_id is None or message.chat.id != rooms.chat_id:
        return None
    if message.message_thread_id is not None and message.is_topic_message:
        return await store.by_topic(pool, message.chat.id, message.message_thread_id)
    reply = message.reply_to_message
    if reply is not None:
        return await store.by_card(pool, message.chat.id, reply.message_id)
    return None


class InRoom(BaseFilter):
    """The message is inside an incident's room; hands the handler `room_ticket`."""

    async def __call__(
        self, message: Message, rooms: RoomsContext, pool: asyncpg.Pool
    ) -> bool | dict[str, Any]:
        ticket_id = await room_of(message, rooms, pool)
        return False if ticket_id is None else {"room_ticket": ticket_id}


def refusal(error: RoomError) -> str:
    """The sentence for an expected refusal of a room, which the room commands leave to their
    router (`answers`; NotAllowed: handlers.refusals)."""
    if isinstance(error, UnknownPerson):
        return _("I do not know {who}: they must have written to me or be on the roster.").format(
            who=esc(error.who)
        )
    if isinstance(error, IncidentOver):
        return _("This incident is already resolved.")
    if isinstance(error, NotARoom):
        return _("This incident has no room.")
    if isinstance(error, NoSuchFollowup):
        return _("There is no open follow-up with that number.")
    return _("That did not work.")


answers(router, RoomError, refusal)


def _split_target(args: str | None) -> tuple[int | None, str]:
    """A leading ticket number (`QC-000123 ...`), and the rest."""
    words = (args or "").strip().split(maxsplit=1)
    if words and words[0].upper().startswith("QC"):
        number = parse_ticket_number(words[0])
        if number is not None:
            return number, words[1] if len(words) > 1 else ""
    return None, (args or "").strip()


async def _target(message: Message, asked: Asked[RoomsContext]) -> tuple[int | None, str]:
    number, rest = _split_target(asked.args)
    if number is not None:
        return number, rest
    return await room_of(message, asked.ctx, asked.pool), rest


def _mention(text: str) -> tuple[str | None, str]:
    """A trailing (or only) `@name` and the text before it."""
    words = text.split()
    if words and words[-1].startswith("@") and len(words[-1]) > 1:
        return words[-1], " ".join(words[:-1])
    return None, text


@command(router, ("lead", "comms"), "rooms")
async def cmd_role(message: Message, asked: Asked[RoomsContext]) -> None:
    role = asked.name.lower()
    ticket_id, rest = await _target(message, asked)
    if ticket_id is None:
        await message.answer(_("Use /{command} inside an incident's room.").format(command=role))
        return
    who = rest.split()[0] if rest.split() else None
    if role == "comms" and who is None:
        raise Usage(_("Usage: /comms @name"))
    done = await actions.set_role(
        asked.pool, asked.clock, asked.ctx, ticket_id, asked.person, role=role, who=who,
        chat_id=asked.chat_id,
    )  # fmt: skip
    if role == "lead":
        await message.answer(
            _("{name} leads {number}.").format(name=esc(done.name), number=esc(done.number))
        )
    else:
        await message.answer(
            _("{name} writes the customer-facing updates of {number}.").format(
                name=esc(done.name), number=esc(done.number)
            )
        )


@router.message(Command("update"), InRoom())
async def cmd_update(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool,
    clock: Clock, rooms: RoomsContext, room_ticket: int,
) -> None:  # fmt: skip
    await require_command(message, command, person, pool, Action.ROOM_UPDATE)
    text = (command.args or "").strip()
    if not text:
        raise Usage(_("Usage: /update <what changed, what is next>"))
    await actions.post_update(
        pool, clock, rooms, room_ticket, person, text, chat_id=message.chat.id
    )


@command(router, "note", "rooms")
async def cmd_note(message: Message, asked: Asked[RoomsContext]) -> None:
    ticket_id, text = await _target(message, asked)
    if ticket_id is None or not text:
        raise Usage(_("Usage: /note <text>, inside an incident's room."))
    done = await actions.add_note(
        asked.pool, asked.clock, asked.ctx, ticket_id, asked.person, text, chat_id=asked.chat_id
    )
    await message.answer(_("Noted on the timeline of {number}.").format(number=esc(done.number)))


@command(router, "followup", "rooms")
async def cmd_followup(message: Message, asked: Asked[RoomsContext]) -> None:
    words = asked.args.split()
    if len(words) == 2 and words[0].lower() == "done":
        await followup_done(message, asked, words[1])
        return
    ticket_id, rest = await _target(message, asked)
    owner, text = _mention(rest)
    if ticket_id is None or not text.strip():
        raise Usage(_("Usage: /followup <action item> [@owner], inside an incident's room."))
    done = await actions.add_followup(
        asked.pool, asked.clock, asked.ctx, ticket_id, asked.person, text, owner,
        chat_id=asked.chat_id,
    )  # fmt: skip
    await message.answer(
        _("Follow-up #{id} recorded for {number}.").format(
            id=done.followup.id if done.followup else "?", number=esc(done.number)
        )
    )


async def followup_done(message: Message, asked: Asked[RoomsContext], word: str) -> None:
    number = word.lstrip("#")
    if not number.isdigit() or len(number) > 12:
        raise Usage(_("Usage: /followup done <number>, as /followups shows it."))
    done = await actions.close_followup(
        asked.pool, asked.clock, asked.person, int(number), chat_id=asked.chat_id
    )
    await message.answer(
        _("Follow-up #{id} of {number} is done.").format(id=number, number=esc(done.number))
    )


@router.message(Command("followups"))
async def cmd_followups(message: Message, person: Person, pool: asyncpg.Pool) -> None:
    await staff.require(pool, person, Action.VIEW_FOLLOWUPS, chat_id=message.chat.id)
    await message.answer(followups_list(await store.open_followups(pool)))


@command(router, "postmortem", "rooms")
async def cmd_postmortem(message: Message, asked: Asked[RoomsContext]) -> None:
    pool, rooms = asked.pool, asked.ctx
    ticket_id, _rest = await _target(message, asked)
    number = ticket_number(ticket_id) if ticket_id is not None else None
    if ticket_id is None:
        raise Usage(_("Usage: /postmortem QC-000123, or /postmortem inside the room."))
    incident = await get_incident(pool, ticket_id)
    failed = None
    if incident is not None:
        failed = await pm_build.payments_failed(
            rooms.quickcart, incident.opened_at, incident.resolved_at, rooms.escalation.tz
        )
    async with transaction(pool) as conn:
        posted = await draft.post(
            conn, rooms, ticket_id, asked.clock.now(), actor_id=asked.person.id,
            payments_failed=failed,
        )  # fmt: skip
        if posted:
            await staff.done(
                conn, asked.person, Action.POSTMORTEM, target=number, chat_id=asked.chat_id
            )
    if not posted:
        await message.answer(refusal(NotARoom(number or "")))
        return
    if await room_of(message, rooms, pool) != ticket_id:
        await message.answer(
            _("The postmortem draft of {number} is posted in its room.").format(number=esc(number))
        )


def offer_refusal(error: offers.OfferError) -> str:
    if isinstance(error, offers.OfferDecided):
        who = esc(error.who or "?")
        if error.decision == "sent":
            return _("{who} already sent this update to the customers.").format(who=who)
        return _("{who} already kept this update internal.").format(who=who)
    if isinstance(error, offers.OfferSuperseded):
        return _("A newer update was posted since: send that one instead.")
    if isinstance(error, offers.NotCustomerFacing):
        return _("This incident is resolved or no longer customer-facing: nothing was sent.")
    return _("This button is out of date.")


@router.callback_query(Press(RoomOffer))
async def on_offer(
    query: CallbackQuery, callback_data: RoomOffer, person: Person, pool: asyncpg.Pool,
    clock: Clock, rooms: RoomsContext, mass: MassContext,
) -> None:  # fmt: skip
    """The offer under a room update: Send to N customers, or Internal only."""
    chat_id = chat_of(query)
    try:
        if callback_data.act == "send":
            done = await offers.send(
                pool, clock, rooms, mass, callback_data.id, person, chat_id=chat_id
            )
            await query.answer(_("Sent to the customers ({n}).").format(n=done.sent_to))
        else:
            await offers.keep_internal(
                pool, clock, rooms, callback_data.id, person, chat_id=chat_id
            )
            await query.answer(_("Kept internal."))
    except offers.OfferError as error:
        await query.answer(offer_refusal(error), show_alert=True)


@router.message(Command("timeline"), InRoom())
async def cmd_room_timeline(
    message: Message, person: Person, pool: asyncpg.Pool, rooms: RoomsContext, room_ticket: int
) -> None:
    number = ticket_number(room_ticket)
    await staff.require(pool, person, Action.VIEW_INCIDENTS, target=number, chat_id=message.chat.id)
    page = await timeline(pool, room_ticket)
    if page is not None:
        await message.answer(render_timeline(page, rooms.escalation.tz, rooms.escalation.tz_name))


@router.message_reaction()
async def on_reaction(
    event: MessageReactionUpdated, person: Person | None, pool: asyncpg.Pool, clock: Clock,
    rooms: RoomsContext,
) -> None:  # fmt: skip
    """A 📌 on a room message puts it on the timeline (once), with its author and time."""
    if rooms.chat_id is None or event.chat.id != rooms.chat_id or person is None:
        return
    old = {r.emoji for r in event.old_reaction if isinstance(r, ReactionTypeEmoji)}
    new = {r.emoji for r in event.new_reaction if isinstance(r, ReactionTypeEmoji)}
    if rooms.rules.pin_emoji not in new - old:
        return
    try:
        await actions.mark_message(pool, clock, rooms, person, event.chat.id, event.message_id)
    except (NotAllowed, RoomError):
        return  # refused (and audited): a reaction has nobody to answer


@talk.message(Command("update"))
async def update_outside_a_room(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool
) -> None:
    """`/update` in no room (no feature before took it): say where it works."""
    await require_command(message, command, person, pool, Action.ROOM_UPDATE)
    await message.answer(
        _("/update works inside an incident's room: its topic, or a reply to its card.")
    )


@talk.message(InRoom(), F.text | F.caption)
async def room_message(
    message: Message, pool: asyncpg.Pool, clock: Clock, room_ticket: int
) -> None:
    """What people write in a room is kept, so a 📌 on it later can quote it."""
    text = message.text or message.caption or ""
    if text.startswith("/"):
        return
    await store.remember_message(
        pool, message.chat.id, message.message_id, room_ticket,
        message.from_user.id if message.from_user else None, text, clock.now(),
    )  # fmt: skip
