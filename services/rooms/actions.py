"""What people do in a room: /lead, /comms, /update, /note, 📌, /followup. Each one is
checked against the permission table, done in one transaction with its timeline event, its
line in the room and the summary's edit, and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services import staff
from services.clock import Clock
from services.escalation import outbound as escalation_outbound
from services.escalation import store as incidents_store
from services.escalation.incidents import Db
from services.escalation.store import Incident
from services.i18n import use_locale
from services.rooms import offers, render, store
from services.rooms import room as rooms
from services.rooms.config import RoomsContext
from services.rooms.store import Followup, Room
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import storable
from services.tickets import briefs as tickets
from services.tickets.model import ticket_number
from services.users import Person

UPDATE_LIMIT = 3000  # characters of an update kept (the room's line, the timeline)


class RoomError(Exception):
    """An expected refusal a handler turns into a sentence."""


class NotARoom(RoomError):
    pass


class IncidentOver(RoomError):
    pass


@dataclass(eq=False)
class UnknownPerson(RoomError):
    who: str


@dataclass(frozen=True)
class Done:
    number: str
    name: str | None = None  # the person named (lead, comms, follow-up owner)
    followup: Followup | None = None


async def _open(conn: Executor, ticket_id: int) -> tuple[Room, Incident, str]:
    # the incident first, then its room: every writer of both takes them in this order
    incident = await incidents_store.get(conn, ticket_id, lock=True)
    room = await store.get(conn, ticket_id, lock=True)
    if room is None or incident is None:
        raise NotARoom(ticket_number(ticket_id))
    return room, incident, ticket_number(ticket_id)


async def _person(conn: Executor, who: str | None, actor: Person) -> tuple[int, str]:
    """`@maya` (or an id) on the roster or known to the bot; none: the actor."""
    if not who:
        return actor.id, await tickets.display_name(conn, actor.id) or actor.first_name
    from services import users

    found = await users.find(conn, who)
    if found is None:
        raise UnknownPerson(who)
    return found.id, await tickets.display_name(conn, found.id) or found.first_name


async def _audit(
    conn: Executor, actor: Person, action: Action, number: str, chat_id: int | None,
    **details: object,
) -> None:  # fmt: skip
    await staff.done(conn, actor, action, target=number, chat_id=chat_id, **details)


async def _line(conn: Executor, ctx: RoomsContext, room: Room, text_of: object) -> None:
    with use_locale(await rooms.language(conn, ctx, room.chat_id)):
        text = text_of() if callable(text_of) else str(text_of)
    await rooms.post(conn, room, text)


async def set_role(
    db: Db, clock: Clock, ctx: RoomsContext, ticket_id: int, actor: Person, *,
    role: str, who: str | None, chat_id: int | None,
) -> Done:  # fmt: skip
    """`role` "lead" or "comms"; `who` None: the actor takes it."""
    action = Action.ROOM_LEAD if role == "lead" else Action.ROOM_COMMS
    number = ticket_number(ticket_id)
    await staff.require(db, actor, action, target=number, chat_id=chat_id)
    async with transaction(db) as conn:
        room, incident, number = await _open(conn, ticket_id)
        if incident.resolved_at is not None:
            raise IncidentOver(number)
        user_id, name = await _person(conn, who, actor)
        now = clock.now()
        await store.update(conn, ticket_id, **{f"{role}_id": user_id})
        await tickets.add_event(
            conn, ticket_id, now, actor.id, f"room_{role}", {"user_id": user_id, "name": name}
        )
        line = render.lead_line if role == "lead" else render.comms_line
        await _line(conn, ctx, room, lambda: line(number, name))
        await rooms.refresh_summary(conn, ctx, ticket_id)
        if role == "lead":  # every copy of the incident's message names its lead
            ticket = await tickets.brief(conn, ticket_id)
            assert ticket is not None
            await escalation_outbound.refresh_copies(conn, ctx.escalation, incident, ticket)
        await _audit(conn, actor, action, number, chat_id, user_id=user_id)
        return Done(number, name)


async def post_update(
    db: Db, clock: Clock, ctx: RoomsContext, ticket_id: int, actor: Person, text: str, *,
    chat_id: int | None,
) -> Done:  # fmt: skip
    """An internal status update: in the room, on the timeline, in the summary; the rhythm
    starts again."""
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.ROOM_UPDATE, target=number, chat_id=chat_id)
    text = storable(text.strip())[:UPDATE_LIMIT]
    async with transaction(db) as conn:
        room, incident, number = await _open(conn, ticket_id)
        now = clock.now()
        name = await tickets.display_name(conn, actor.id) or actor.first_name
        await store.update(
            conn, ticket_id, last_update_at=now, last_update_by=actor.id, last_update_text=text,
            reminder_stage=0,
        )  # fmt: skip
        await tickets.add_event(conn, ticket_id, now, actor.id, "room_update", {"text": text})
        await _line(
            conn, ctx, room, lambda: render.update_line(number, name, text, ctx.escalation.tz, now)
        )
        await rooms.refresh_summary(conn, ctx, ticket_id)
        await _audit(conn, actor, Action.ROOM_UPDATE, number, chat_id, chars=len(text))
        await customer_update_offered(conn, ctx, incident, room, text, actor.id, now)
        return Done(number, name)


async def customer_update_offered(
    conn: Executor, ctx: RoomsContext, incident: Incident, room: Room, text: str,
    actor_id: int, now: datetime,
) -> int | None:  # fmt: skip
    """A customer-facing incident (services/massincident): the update is offered to the
    affected customers ("Send to N customers" / "Internal only" in the room). None: an internal
    incident, the update stays internal."""
    return await offers.offer(conn, ctx, incident, room, text, actor_id, now)


async def add_note(
    db: Db, clock: Clock, ctx: RoomsContext, ticket_id: int, actor: Person, text: str, *,
    chat_id: int | None, source: str = "note", at: datetime | None = None,
    author_id: int | None = None,
) -> Done:  # fmt: skip
    """`/note` (source "note") or a 📌 on a room message (source "pin", `at` its time)."""
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.ROOM_NOTE, target=number, chat_id=chat_id)
    text = storable(text.strip())[:UPDATE_LIMIT]
    async with transaction(db) as conn:
        await _open(conn, ticket_id)
        await tickets.add_event(
            conn, ticket_id, at or clock.now(), author_id or actor.id, "room_note",
            {"text": text, "source": source, "marked_by": actor.id},
        )  # fmt: skip
        await _audit(conn, actor, Action.ROOM_NOTE, number, chat_id, source=source)
        return Done(number)


async def mark_message(
    db: Db, clock: Clock, ctx: RoomsContext, actor: Person, chat_id: int, message_id: int
) -> Done | None:
    """A 📌 reaction: the room message goes on the timeline (once), with its author and time.
    None: not a room message the bot saw, or marked before."""
    ticket_id = await store.unmarked_message(db, chat_id, message_id)
    if ticket_id is None:
        return None
    await staff.require(
        db, actor, Action.ROOM_NOTE, target=ticket_number(ticket_id),
        chat_id=chat_id,
    )  # fmt: skip
    async with transaction(db) as conn:
        row = await store.mark_message(conn, chat_id, message_id, clock.now())
        if row is None:
            return None
        return await add_note(
            conn, clock, ctx, row["ticket_id"], actor, row["text"], chat_id=chat_id,
            source="pin", at=row["at"], author_id=row["author_id"],
        )  # fmt: skip


class NoSuchFollowup(RoomError):
    pass


async def close_followup(
    db: Db, clock: Clock, actor: Person, followup_id: int, *, chat_id: int | None
) -> Done:
    """`/followup done 12`: the action item is done (on its incident's timeline, audited)."""
    await staff.require(db, actor, Action.ROOM_FOLLOWUP, target=f"#{followup_id}", chat_id=chat_id)
    async with transaction(db) as conn:
        now = clock.now()
        followup = await store.close_followup(conn, followup_id, now)
        if followup is None:
            raise NoSuchFollowup(str(followup_id))
        number = ticket_number(followup.ticket_id)
        await tickets.add_event(
            conn, followup.ticket_id, now, actor.id, "room_followup_done",
            {"text": followup.text, "followup_id": followup.id},
        )  # fmt: skip
        await _audit(conn, actor, Action.ROOM_FOLLOWUP, number, chat_id, done=followup.id)
        return Done(number, followup.owner_name, followup)


async def add_followup(
    db: Db, clock: Clock, ctx: RoomsContext, ticket_id: int, actor: Person, text: str,
    owner: str | None, *, chat_id: int | None,
) -> Done:  # fmt: skip
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.ROOM_FOLLOWUP, target=number, chat_id=chat_id)
    text = storable(text.strip())[:1000]
    async with transaction(db) as conn:
        await _open(conn, ticket_id)
        owner_id: int | None = None
        owner_name: str | None = None
        if owner:
            from services import users

            found = await users.find(conn, owner)
            if found is not None:
                owner_id = found.id
                owner_name = await tickets.display_name(conn, found.id) or found.first_name
            else:
                owner_name = owner if owner.startswith("@") else f"@{owner}"
        now = clock.now()
        followup = await store.add_followup(
            conn, ticket_id, text, owner_id, owner_name, actor.id, now
        )
        await tickets.add_event(
            conn, ticket_id, now, actor.id, "room_followup",
            {"text": text, "owner": owner_name, "followup_id": followup.id},
        )  # fmt: skip
        await _audit(conn, actor, Action.ROOM_FOLLOWUP, number, chat_id, followup=followup.id)
        return Done(number, owner_name, followup)
