"""Storm view (migration 0036_alert_storms): when more alert groups need a first message in the
admin chat than its send budget carries within the group wait, they are folded into one storm
message instead, edited in place as they change; quiet again, groups get their own messages.

The admin chat's budget is Telegram's group limit the delivery worker keeps (20 sends in any
rolling 60 s, edits included): with a group wait of 30 s it carries 10 first messages; more
than that at once would sit in the outbox for minutes while the first ten show. A storm takes
groups while they keep coming (a group joined within `QUIET`); it stays on screen, edited,
until its last group resolves. Only one storm row is ever queued at a time: a newer rendering
replaces a pending one (`outbox.replace_pending`), so a storm costs one send per edit window,
however many groups change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import asyncpg

from services import outbox
from services.alerts import model, store
from services.alerts.config import GroupingRules
from services.alerts.render import Rendered
from services.alerts.render_storm import StormLine, StormView, render_storm
from services.i18n import use_locale
from services.storage.db import transaction
from services.storage.types import Executor

QUIET = timedelta(seconds=60)  # no group joined for this long: the storm takes no more


@dataclass(frozen=True)
class Budget:
    """The admin chat's send budget (services/delivery: `group_per_minute` per window)."""

    sends: float = 20.0
    window_seconds: float = 60.0

    def carried(self, grouping: GroupingRules) -> int:
        """First messages the chat can take within the group wait (at least one)."""
        wait = grouping.group_wait.total_seconds()
        return max(1, int(self.sends * wait / self.window_seconds))


def owner(storm_id: int) -> str:
    return f"alert_storm:{storm_id}"


async def current(db: Executor, chat_id: int, now: datetime) -> int | None:
    """The chat's storm that still takes groups (a quiet one is closed first)."""
    await db.execute(
        "UPDATE alert_storms SET closed_at = $2"
        " WHERE chat_id = $1 AND closed_at IS NULL AND last_joined_at < $3",
        chat_id,
        now,
        now - QUIET,
    )
    storm_id: int | None = await db.fetchval(
        "SELECT id FROM alert_storms WHERE chat_id = $1 AND closed_at IS NULL", chat_id
    )
    return storm_id


async def needing_first_message(db: Executor, group_ids: list[int]) -> int:
    """How many of these groups fire and have no message yet (nor a storm to show them)."""
    count: int = await db.fetchval(
        """
        SELECT count(*) FROM alert_groups g
        WHERE g.id = ANY($1::bigint[]) AND g.status = 'open' AND g.storm_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM alert_group_messages m WHERE m.group_id = g.id)
          AND EXISTS (SELECT 1 FROM alerts a WHERE a.group_id = g.id AND a.state = 'firing')
        """,
        group_ids,
    )
    return count


async def begin(db: Executor, chat_id: int, now: datetime) -> int:
    storm_id: int = await db.fetchval(
        """
        INSERT INTO alert_storms (chat_id, opened_at, last_joined_at) VALUES ($1, $2, $2)
        ON CONFLICT (chat_id) WHERE closed_at IS NULL DO UPDATE SET dirty = true
        RETURNING id
        """,
        chat_id,
        now,
    )
    return storm_id


async def join(db: Executor, storm_id: int, group_id: int, now: datetime) -> None:
    await db.execute("UPDATE alert_groups SET storm_id = $2 WHERE id = $1", group_id, storm_id)
    await db.execute(
        "UPDATE alert_storms SET last_joined_at = greatest(last_joined_at, $2), dirty = true"
        " WHERE id = $1",
        storm_id,
        now,
    )


async def touch(db: Executor, storm_id: int) -> None:
    """Something a storm shows changed: render it again at the next flush."""
    await db.execute("UPDATE alert_storms SET dirty = true WHERE id = $1", storm_id)


@dataclass(frozen=True)
class StormRow:
    id: int
    chat_id: int
    opened_at: datetime
    outbox_id: int | None
    ended_at: datetime | None
    acknowledged_name: str | None
    acknowledged_at: datetime | None


async def get(
    db: Executor, storm_id: int, *, lock: bool = False, wait: bool = False
) -> StormRow | None:
    """`lock`: skip a storm another transaction renders; `wait`: wait for it instead."""
    suffix = " FOR UPDATE SKIP LOCKED" if lock else " FOR UPDATE" if wait else ""
    row = await db.fetchrow(
        "SELECT id, chat_id, opened_at, outbox_id, ended_at, acknowledged_name, acknowledged_at"
        " FROM alert_storms WHERE id = $1" + suffix,
        storm_id,
    )
    return StormRow(**dict(row)) if row else None


async def view(db: Executor, storm: StormRow) -> StormView:
    rows = await db.fetch(
        """
        SELECT g.id, g.group_key, g.severity, g.status, g.acknowledged_at IS NOT NULL AS acked,
               count(a.id) FILTER (WHERE a.state = 'firing') AS firing,
               (array_agg(a.labels ORDER BY a.fingerprint)
                    FILTER (WHERE a.state = 'firing'))[1] AS first_labels,
               min(a.alertname) AS any_name
        FROM alert_groups g LEFT JOIN alerts a ON a.group_id = g.id
        WHERE g.storm_id = $1
        GROUP BY g.id
        """,
        storm.id,
    )
    lines = [
        StormLine(
            group_id=r["id"],
            alertname=r["group_key"].split("|", 1)[0] or r["any_name"] or "?",
            severity=r["severity"],
            firing=r["firing"],
            first_labels=dict(r["first_labels"] or {}),
            resolved=r["status"] != "open" or r["firing"] == 0,
            acknowledged=r["acked"],
        )
        for r in rows
    ]
    return StormView(
        storm.id, storm.opened_at, lines, storm.acknowledged_name, storm.acknowledged_at
    )


async def show(db: Executor, storm: StormRow, rendered: Rendered, priority: int) -> None:
    """Queue the storm message, or its newest edit: a rendering still waiting to leave is
    replaced, never queued behind."""
    payload = rendered.payload()
    if storm.outbox_id is None:
        row_id = await outbox.send_text(
            db, storm.chat_id, payload, owner=owner(storm.id), priority=priority
        )
        await db.execute("UPDATE alert_storms SET outbox_id = $2 WHERE id = $1", storm.id, row_id)
        return
    waiting = await outbox.latest(db, owner(storm.id), ("text", "edit"))
    if waiting is not None and waiting.status == "pending":
        ref = storm.outbox_id if waiting.kind == "edit" else None
        if await outbox.replace_pending(db, waiting.id, payload, ref_id=ref):
            return
    await outbox.edit_message(
        db,
        storm.chat_id,
        storm.outbox_id,
        payload,
        owner=owner(storm.id),
    )


async def any_dirty(db: Executor) -> bool:
    """Whether a storm's message needs rendering anew."""
    value: bool = await db.fetchval("SELECT EXISTS (SELECT 1 FROM alert_storms WHERE dirty)")
    return value


async def render_dirty(
    pool: asyncpg.Pool, language: str, tz: tzinfo, priority: int, now: datetime
) -> list[int]:
    """Render every storm something changed in; return their ids."""
    done: list[int] = []
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM alert_storms WHERE dirty")]
    for storm_id in ids:
        async with transaction(pool) as conn:
            storm = await get(conn, storm_id, lock=True)
            if storm is None:
                continue
            await render_one(conn, storm, language, tz, priority, now)
            done.append(storm_id)
    return done


async def render_one(
    db: Executor, storm: StormRow, language: str, tz: tzinfo, priority: int, now: datetime
) -> StormView:
    shown = await view(db, storm)
    if not shown.lines:  # begun, but its groups were busy (being folded): nothing to show yet
        await db.execute("UPDATE alert_storms SET dirty = false WHERE id = $1", storm.id)
        return shown
    with use_locale(language):
        rendered = render_storm(shown, tz)
    await show(db, storm, rendered, priority)
    await db.execute(
        "UPDATE alert_storms SET dirty = false,"
        " ended_at = CASE WHEN $2 THEN coalesce(ended_at, $3) END,"
        " closed_at = CASE WHEN $2 THEN coalesce(closed_at, $3) ELSE closed_at END"
        " WHERE id = $1",
        storm.id,
        shown.over,
        now,
    )
    return shown


async def members(db: Executor, storm_id: int) -> list[model.GroupRow]:
    rows = await db.fetch("SELECT id FROM alert_groups WHERE storm_id = $1 ORDER BY id", storm_id)
    groups = [await store.get_group(db, r["id"]) for r in rows]
    return [g for g in groups if g is not None]
