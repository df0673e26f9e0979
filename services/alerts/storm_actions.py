"""The storm message's buttons: a group's details (sent privately to the presser when a message
to their private chat ever got through, else shown in the storm message itself with a way
back), Acknowledge all, and Back. Each checks the person's
role in services/staff.py's table (through `actions.check`, which audits a refusal) and is
audited when done; a storm or group that is gone, or not the storm's, is `GroupNotFound`.

Silence 1 h, Escalate, Acknowledge and Resolve of one group are the group's own buttons
(`actions.press`), on its details: they act on the group and the storm shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from services import outbox, roster
from services.alerts import outbound, storm
from services.alerts.actions import Action, AlreadyDone, GroupNotFound, acting, display_name
from services.alerts.outbound import Audience, group_view
from services.alerts.store import acknowledge_storm, get_group
from services.users import Person


@dataclass(frozen=True)
class Shown:
    where: Literal["private", "edit"]
    group_id: int


async def details(
    pool: asyncpg.Pool,
    person: Person | None,
    storm_id: int,
    group_id: int,
    *,
    chat_id: int | None,
    now: datetime,
    audience: Audience,
) -> Shown:
    """A group's full message: to the presser's private chat when they have one with the bot,
    else in place of the storm message, with a button back."""
    target = f"alert_group:{group_id}"
    async with acting(pool, person, Action.VIEW, target=target, chat_id=chat_id, now=now) as done:
        conn = done.conn
        group = await get_group(conn, group_id)
        current = await storm.get(conn, storm_id)
        if group is None or current is None or group.storm_id != storm_id:
            raise GroupNotFound(group_id)
        view = await group_view(conn, group, now)
        # privately only to a chat known to work: Telegram refuses a first message to someone
        # who never pressed Start, and the details would be lost
        member = await roster.member(conn, done.person.id)
        private = (
            member is not None
            and not member.not_started
            and await outbox.reached(conn, done.person.id)
        )
        if private:
            await outbound.details_privately(conn, done.person, view, audience, group_id)
        else:
            if current.outbox_id is None:
                raise GroupNotFound(group_id)  # the storm message has not left yet
            await outbound.details_in_storm(conn, current, view, audience)
        where: Literal["private", "edit"] = "private" if private else "edit"
        done.details = {"button": "storm_details", "storm_id": storm_id, "shown": where}
    return Shown(where, group_id)


async def acknowledge_all(
    pool: asyncpg.Pool,
    person: Person | None,
    storm_id: int,
    *,
    chat_id: int | None,
    now: datetime,
    audience: Audience,
) -> list[int]:
    """Acknowledge every open group of the storm not acknowledged yet; return their ids."""
    target = f"alert_storm:{storm_id}"
    async with acting(
        pool, person, Action.ACKNOWLEDGE, target=target, chat_id=chat_id, now=now
    ) as done:
        current = await storm.get(done.conn, storm_id, wait=True)
        if current is None or current.ended_at is not None:
            raise GroupNotFound(storm_id)
        if current.acknowledged_at is not None:
            raise AlreadyDone(current.acknowledged_name)
        acknowledged = await acknowledge_storm(
            done.conn, storm_id, done.person.id, display_name(done.person), now
        )
        done.details = {"button": "storm_ack_all", "groups": acknowledged}
        await outbound.redraw_storm(done.conn, storm_id, audience, now)
    return acknowledged


async def back(
    pool: asyncpg.Pool,
    person: Person | None,
    storm_id: int,
    *,
    chat_id: int | None,
    now: datetime,
    audience: Audience,
) -> None:
    """The storm message shows the storm again (after a group's details in its place)."""
    target = f"alert_storm:{storm_id}"
    async with acting(pool, person, Action.VIEW, target=target, chat_id=chat_id, now=now) as done:
        if await storm.get(done.conn, storm_id, wait=True) is None:
            raise GroupNotFound(storm_id)
        await outbound.redraw_storm(done.conn, storm_id, audience, now)
        done.details = {"button": "storm_back"}
