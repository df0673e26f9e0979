"""A room `/update` on a customer-facing incident (services/massincident) is offered to the
affected customers: a message in the room with the update and "Send to N customers" /
"Internal only". Pressing Send fans it out exactly once (the offer's row is locked and decided
in the fan-out's transaction, so a second press, or one racing it, finds it decided); the offer
then says who sent it and to how many. Each press is checked against the permission table
(Send: what customers read, `incident.update`; Internal only: `room.update`) and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asyncpg import Record

from services import outbox, staff
from services.clock import Clock
from services.escalation import store as incidents_store
from services.escalation.incidents import AlreadyResolved, Db
from services.escalation.store import Incident
from services.i18n import use_locale
from services.massincident import fanout
from services.massincident import store as mass_store
from services.massincident.config import MassContext
from services.massincident.declare import NotPublic
from services.message import html
from services.rooms import render_offers as render
from services.rooms import room as rooms
from services.rooms import store as rooms_store
from services.rooms import store_offers as offers_store
from services.rooms.config import RoomsContext
from services.rooms.store import Room
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import briefs as tickets
from services.tickets.model import ticket_number
from services.users import Person


class OfferError(Exception):
    """A press that cannot be carried out; the handler answers it politely."""


class NoSuchOffer(OfferError):
    pass


class OfferDecided(OfferError):
    def __init__(self, decision: str, who: str | None) -> None:
        super().__init__(decision)
        self.decision = decision  # "sent" | "internal"
        self.who = who


class OfferSuperseded(OfferError):
    """A newer update of the incident was posted since: that one is the one to send."""


class NotCustomerFacing(OfferError):
    """The incident resolved, or is no longer customer-facing: nothing to send."""


@dataclass(frozen=True)
class Decided:
    number: str
    decision: str  # "sent" | "internal"
    sent_to: int = 0
    blocked: int = 0


async def offer(
    conn: Executor, ctx: RoomsContext, incident: Incident, room: Room, text: str,
    actor_id: int, now: datetime,
) -> int | None:  # fmt: skip
    """In the update's transaction: the offer under it, if the incident is customer-facing and
    open. Its id, or None (an internal incident: the update stays internal)."""
    public = await mass_store.get(conn, incident.ticket_id)
    if public is None or public.ended_at is not None:
        return None
    people = await mass_store.recipients(conn, incident.ticket_id)
    reachable = sum(1 for p in people if not p["blocked"])
    offer_id = await offers_store.add(conn, incident.ticket_id, text, actor_id, now, reachable)
    number = ticket_number(incident.ticket_id)
    with use_locale(await rooms.language(conn, ctx, room.chat_id)):
        body, markup = render.offer(number, text, reachable, offer_id)
    row = await rooms.post(
        conn, room, body, dedup=f"offer:{offer_id}",
        payload={"text": body, "parse_mode": "HTML", "reply_markup": markup},
    )  # fmt: skip
    await offers_store.set_message(conn, offer_id, row)
    return offer_id


async def _allowed(
    db: Executor, actor: Person, action: Action, offer_id: int, chat_id: int | None
) -> tuple[int, str]:
    """The permission table's word first (a refusal audited, whatever the offer), then the
    offer's incident: its ticket id and number."""
    ticket_id = await offers_store.ticket_of(db, offer_id)
    target = ticket_number(ticket_id) if ticket_id is not None else f"offer:{offer_id}"
    await staff.require(db, actor, action, target=target, chat_id=chat_id)
    if ticket_id is None:
        raise NoSuchOffer(str(offer_id))
    return ticket_id, target


async def _locked(conn: Executor, ticket_id: int, offer_id: int) -> Record:
    """The offer, undecided and the newest of its incident, locked (the incident first: the
    order every writer of incidents and rooms takes)."""
    await incidents_store.get(conn, ticket_id, lock=True)
    row = await offers_store.get_locked(conn, offer_id)
    assert row is not None
    if row["decision"] is not None:
        who = await tickets.display_name(conn, row["decided_by"])
        raise OfferDecided(row["decision"], who)
    if await offers_store.newer_exists(conn, ticket_id, offer_id):
        raise OfferSuperseded(str(offer_id))
    return row


async def _edit(conn: Executor, ctx: RoomsContext, row: Record, text_of: object) -> None:
    """The offer's message says what was decided (its buttons gone)."""
    room = await rooms_store.get(conn, row["ticket_id"])
    if room is None or row["outbox_id"] is None:
        return
    with use_locale(await rooms.language(conn, ctx, room.chat_id)):
        text = text_of() if callable(text_of) else str(text_of)
    await outbox.edit_message(
        conn,
        room.chat_id,
        row["outbox_id"],
        html(text),
        owner=rooms.owner(row["ticket_id"]),
    )


async def send(
    db: Db, clock: Clock, ctx: RoomsContext, mctx: MassContext, offer_id: int, actor: Person,
    *, chat_id: int | None,
) -> Decided:  # fmt: skip
    """Send to N customers: the fan-out, once (services/massincident/fanout)."""
    ticket_id, number = await _allowed(db, actor, Action.PUBLIC_UPDATE, offer_id, chat_id)
    async with transaction(db) as conn:
        row = await _locked(conn, ticket_id, offer_id)
        try:
            result = await fanout.send_customer_update(
                conn, clock, mctx, ticket_id, row["text"], actor, chat_id=chat_id
            )
        except (NotPublic, AlreadyResolved):
            raise NotCustomerFacing(number) from None
        now = clock.now()
        await offers_store.decide_sent(
            conn, offer_id, actor.id, now, result.queued, result.blocked, result.update_id
        )
        name = await tickets.display_name(conn, actor.id) or actor.first_name
        await _edit(
            conn, ctx, row,
            lambda: render.sent(number, row["text"], name, result.queued, result.blocked,
                                ctx.escalation.tz, now),
        )  # fmt: skip
        return Decided(number, "sent", result.queued, result.blocked)


async def keep_internal(
    db: Db, clock: Clock, ctx: RoomsContext, offer_id: int, actor: Person, *,
    chat_id: int | None,
) -> Decided:  # fmt: skip
    """Internal only: the offer is closed without sending (who said so is recorded)."""
    ticket_id, number = await _allowed(db, actor, Action.ROOM_UPDATE, offer_id, chat_id)
    async with transaction(db) as conn:
        row = await _locked(conn, ticket_id, offer_id)
        now = clock.now()
        await offers_store.decide_internal(conn, offer_id, actor.id, now)
        name = await tickets.display_name(conn, actor.id) or actor.first_name
        await _edit(
            conn, ctx, row,
            lambda: render.kept_internal(number, row["text"], name, ctx.escalation.tz, now),
        )  # fmt: skip
        await staff.done(conn, actor, Action.ROOM_UPDATE, target=number, chat_id=chat_id,
                         offer=offer_id, internal=True)  # fmt: skip
        return Decided(number, "internal")
