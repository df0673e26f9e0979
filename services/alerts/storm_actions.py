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

from services import audit, outbox, roster
from services.alerts import storm
from services.alerts.actions import Action, AlreadyDone, GroupNotFound, check, display_name
from services.alerts.outbound import STORM_PRIORITY, Audience, group_view, in_chat_language
from services.alerts.render import render_group
from services.alerts.render_storm import back_row
from services.alerts.store import get_group
from services.i18n import use_locale
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
    await check(pool, person, Action.VIEW, target=target, chat_id=chat_id, now=now)
    assert person is not None
    async with pool.acquire() as conn, conn.transaction():
        group = await get_group(conn, group_id)
        current = await storm.get(conn, storm_id)
        if group is None or current is None or group.storm_id != storm_id:
            raise GroupNotFound(group_id)
        view = await group_view(conn, group, now)
        # privately only to a chat known to work: Telegram refuses a first message to someone
        # who never pressed Start, and the details would be lost
        member = await roster.member(conn, person.id)
        private = (
            member is not None and not member.not_started and await outbox.reached(conn, person.id)
        )
        if private:
            with use_locale(person.language or audience.language):
                rendered = render_group(view, audience.tz)
            await outbox.enqueue(
                conn,
                outbox.OutboxMessage(
                    chat_id=person.id,
                    kind="text",
                    payload=rendered.payload(),
                    owner=f"alert_details:{group_id}",
                    priority=outbox.PRIORITY_INTERACTIVE,
                ),
            )
        else:
            if current.outbox_id is None:
                raise GroupNotFound(group_id)  # the storm message has not left yet
            chat = await in_chat_language(conn, audience)
            with use_locale(chat.language):
                rendered = render_group(view, audience.tz)
                keyboard = [*rendered.reply_markup["inline_keyboard"], back_row(storm_id)]
            payload = {**rendered.payload(), "reply_markup": {"inline_keyboard": keyboard}}
            await outbox.enqueue(
                conn,
                outbox.OutboxMessage(
                    chat_id=current.chat_id,
                    kind="edit",
                    payload=payload,
                    ref_id=current.outbox_id,
                    owner=storm.owner(storm_id),
                    priority=outbox.PRIORITY_INTERACTIVE,
                ),
            )
        where: Literal["private", "edit"] = "private" if private else "edit"
        await audit.record(
            conn,
            actor_id=person.id,
            action=f"alerts.{Action.VIEW.value}",
            allowed=True,
            target=target,
            chat_id=chat_id,
            at=now,
            details={"button": "storm_details", "storm_id": storm_id, "shown": where},
        )
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
    await check(pool, person, Action.ACKNOWLEDGE, target=target, chat_id=chat_id, now=now)
    assert person is not None
    async with pool.acquire() as conn, conn.transaction():
        current = await storm.get(conn, storm_id, wait=True)
        if current is None or current.ended_at is not None:
            raise GroupNotFound(storm_id)
        if current.acknowledged_at is not None:
            raise AlreadyDone(current.acknowledged_name)
        name = display_name(person)
        rows = await conn.fetch(
            """
            UPDATE alert_groups SET acknowledged_by = $2, acknowledged_name = $3,
                                    acknowledged_at = $4
            WHERE storm_id = $1 AND status = 'open' AND acknowledged_at IS NULL
            RETURNING id
            """,
            storm_id,
            person.id,
            name,
            now,
        )
        await conn.execute(
            "UPDATE alert_storms SET acknowledged_by = $2, acknowledged_name = $3,"
            " acknowledged_at = $4 WHERE id = $1",
            storm_id,
            person.id,
            name,
            now,
        )
        acknowledged = sorted(r["id"] for r in rows)
        await audit.record(
            conn,
            actor_id=person.id,
            action=f"alerts.{Action.ACKNOWLEDGE.value}",
            allowed=True,
            target=target,
            chat_id=chat_id,
            at=now,
            details={"button": "storm_ack_all", "groups": acknowledged},
        )
        await _render(conn, storm_id, audience, now)
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
    await check(pool, person, Action.VIEW, target=target, chat_id=chat_id, now=now)
    assert person is not None
    async with pool.acquire() as conn, conn.transaction():
        if await storm.get(conn, storm_id, wait=True) is None:
            raise GroupNotFound(storm_id)
        await _render(conn, storm_id, audience, now)
        await audit.record(
            conn,
            actor_id=person.id,
            action=f"alerts.{Action.VIEW.value}",
            allowed=True,
            target=target,
            chat_id=chat_id,
            at=now,
            details={"button": "storm_back"},
        )


async def _render(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
    storm_id: int,
    audience: Audience,
    now: datetime,
) -> None:
    current = await storm.get(conn, storm_id)
    assert current is not None
    chat = await in_chat_language(conn, audience)
    await storm.render_one(conn, current, chat.language, audience.tz, STORM_PRIORITY, now)
