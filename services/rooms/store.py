"""SQL on the rooms tables (migration 0030)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncpg import Record

from services.storage.records import columns, record, rowcount
from services.storage.statements import Table
from services.storage.types import Executor


@dataclass(frozen=True)
class Room:
    ticket_id: int
    chat_id: int
    mode: str  # "topic" | "thread"
    topic_outbox_id: int | None
    topic_id: int | None
    topic_name: str | None
    summary_outbox_id: int | None
    summary_message_id: int | None
    summary_text: str | None
    pinned_message_id: int | None
    lead_id: int | None
    comms_id: int | None
    last_update_at: datetime | None
    last_update_by: int | None
    last_update_text: str | None
    reminder_stage: int
    recreated: int
    postmortem_at: datetime | None
    created_at: datetime
    topic_closed_at: datetime | None = None  # its topic's close was queued (resolved)

    def thread(self) -> tuple[int | None, int | None, int | None]:
        """(thread_id, thread_ref, ref_id) of a new message in the room."""
        if self.mode == "topic":
            if self.topic_id is not None:
                return self.topic_id, None, None
            return None, self.topic_outbox_id, None
        return None, None, self.summary_outbox_id


_COLUMNS = columns(Room)


def _room(row: Record) -> Room:
    return record(Room, row)


async def get(db: Executor, ticket_id: int, *, lock: bool = False) -> Room | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM incident_rooms WHERE ticket_id = $1{suffix}", ticket_id
    )
    return _room(row) if row else None


async def insert(db: Executor, ticket_id: int, chat_id: int, now: datetime) -> Room | None:
    """None when the incident has a room already."""
    row = await db.fetchrow(
        f"""
        INSERT INTO incident_rooms (ticket_id, chat_id, mode, created_at)
        VALUES ($1, $2, 'topic', $3)
        ON CONFLICT (ticket_id) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        ticket_id,
        chat_id,
        now,
    )
    return _room(row) if row else None


_ROOMS = Table(
    "incident_rooms",
    key="ticket_id",
    settable=frozenset(Room.__dataclass_fields__) - {"ticket_id", "created_at"},
)


async def update(db: Executor, ticket_id: int, **fields: Any) -> None:
    await _ROOMS.update(db, ticket_id, **fields)


def link(room: Room | None) -> str | None:
    """t.me link to the room (its topic, or its card in a chat without topics)."""
    if room is None:
        return None
    text = str(room.chat_id)
    if not text.startswith("-100"):
        return None
    if room.mode == "topic" and room.topic_id is not None:
        return f"https://t.me/c/{text[4:]}/{room.topic_id}"
    if room.mode == "thread" and room.summary_message_id is not None:
        return f"https://t.me/c/{text[4:]}/{room.summary_message_id}"
    return None


async def affected_customers(db: Executor, ticket_id: int) -> int:
    """Customers the incident touches: its own ticket's customer (a customer's ticket escalated;
    not the staff member or the bot that raised it) and every customer whose ticket is linked
    to it (a customer-facing incident, services/massincident)."""
    count: int = await db.fetchval(
        """
        SELECT count(DISTINCT customer_id) FROM tickets
        WHERE (id = $1 OR (parent_id = $1 AND kind = 'linked'))
          AND channel <> 'admin_chat' AND customer_id > 0
        """,
        ticket_id,
    )
    return count


async def lead_of(db: Executor, ticket_id: int) -> int | None:
    """Who leads the incident (None: nobody, or it has no room)."""
    value: int | None = await db.fetchval(
        "SELECT lead_id FROM incident_rooms WHERE ticket_id = $1", ticket_id
    )
    return value


async def by_topic(db: Executor, chat_id: int, topic_id: int) -> int | None:
    value: int | None = await db.fetchval(
        "SELECT ticket_id FROM incident_rooms WHERE chat_id = $1 AND topic_id = $2",
        chat_id,
        topic_id,
    )
    return value


async def by_card(db: Executor, chat_id: int, message_id: int) -> int | None:
    """A reply to a room's card (a chat without topics)."""
    value: int | None = await db.fetchval(
        "SELECT ticket_id FROM incident_rooms WHERE chat_id = $1 AND summary_message_id = $2 "
        "AND mode = 'thread'",
        chat_id,
        message_id,
    )
    return value


async def live(db: Executor, since: datetime) -> list[Room]:
    """Rooms of open incidents and of those resolved after `since` (their last summary)."""
    rows = await db.fetch(
        f"""
        SELECT {columns(Room, prefix="r.")}
        FROM incident_rooms r JOIN incidents i ON i.ticket_id = r.ticket_id
        WHERE i.resolved_at IS NULL OR i.resolved_at >= $1
        ORDER BY r.ticket_id
        """,
        since,
    )
    return [_room(r) for r in rows]


async def without_room(db: Executor, since: datetime) -> list[int]:
    """Incidents opened after `since` (open) that have no room yet."""
    rows = await db.fetch(
        """
        SELECT i.ticket_id FROM incidents i
        LEFT JOIN incident_rooms r ON r.ticket_id = i.ticket_id
        WHERE r.ticket_id IS NULL AND i.resolved_at IS NULL AND i.opened_at >= $1
        ORDER BY i.opened_at
        """,
        since,
    )
    return [r["ticket_id"] for r in rows]


# room messages (for 📌) ---------------------------------------------------------------------


async def remember_message(
    db: Executor, chat_id: int, message_id: int, ticket_id: int, author_id: int | None,
    text: str, at: datetime,
) -> None:  # fmt: skip
    await db.execute(
        """
        INSERT INTO incident_room_messages (chat_id, message_id, ticket_id, author_id, text, at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (chat_id, message_id) DO UPDATE SET text = EXCLUDED.text
        """,
        chat_id, message_id, ticket_id, author_id, text, at,
    )  # fmt: skip


async def unmarked_message(db: Executor, chat_id: int, message_id: int) -> int | None:
    """The ticket of a room message the bot saw and nobody marked yet; None otherwise."""
    row = await db.fetchrow(
        "SELECT ticket_id, marked_at FROM incident_room_messages "
        "WHERE chat_id = $1 AND message_id = $2",
        chat_id,
        message_id,
    )
    return row["ticket_id"] if row is not None and row["marked_at"] is None else None


async def mark_message(db: Executor, chat_id: int, message_id: int, at: datetime) -> Record | None:
    """The room message, marked now; None if unknown or marked before."""
    row: Record | None = await db.fetchrow(
        """
        UPDATE incident_room_messages SET marked_at = $3
        WHERE chat_id = $1 AND message_id = $2 AND marked_at IS NULL
        RETURNING ticket_id, author_id, text, at
        """,
        chat_id,
        message_id,
        at,
    )
    return row


# follow-ups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Followup:
    id: int
    ticket_id: int
    text: str
    owner_id: int | None
    owner_name: str | None
    created_by: int | None
    created_at: datetime
    done_at: datetime | None


_FOLLOWUP = columns(Followup)


def _followup(row: Record) -> Followup:
    return record(Followup, row)


async def add_followup(
    db: Executor, ticket_id: int, text: str, owner_id: int | None, owner_name: str | None,
    created_by: int | None, at: datetime,
) -> Followup:  # fmt: skip
    row = await db.fetchrow(
        f"""
        INSERT INTO incident_followups (ticket_id, text, owner_id, owner_name, created_by,
                                        created_at)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_FOLLOWUP}
        """,
        ticket_id, text, owner_id, owner_name, created_by, at,
    )  # fmt: skip
    return _followup(row)


async def close_followup(db: Executor, followup_id: int, at: datetime) -> Followup | None:
    """Marks it done; None if there is no such open follow-up."""
    row = await db.fetchrow(
        f"UPDATE incident_followups SET done_at = $2 WHERE id = $1 AND done_at IS NULL "
        f"RETURNING {_FOLLOWUP}",
        followup_id,
        at,
    )
    return _followup(row) if row else None


async def followups_of(db: Executor, ticket_id: int) -> list[Followup]:
    rows = await db.fetch(
        f"SELECT {_FOLLOWUP} FROM incident_followups WHERE ticket_id = $1 ORDER BY id", ticket_id
    )
    return [_followup(r) for r in rows]


async def open_followups(db: Executor, limit: int = 100) -> list[Followup]:
    rows = await db.fetch(
        f"SELECT {_FOLLOWUP} FROM incident_followups WHERE done_at IS NULL "
        "ORDER BY created_at, id LIMIT $1",
        limit,
    )
    return [_followup(r) for r in rows]


async def count_followups(db: Executor, start: datetime, end: datetime) -> tuple[int, int]:
    """(recorded in the period, open now)."""
    row = await db.fetchrow(
        """
        SELECT count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS recorded,
               count(*) FILTER (WHERE done_at IS NULL) AS still_open
        FROM incident_followups
        """,
        start,
        end,
    )
    assert row is not None
    return int(row["recorded"]), int(row["still_open"])


# alerts of an incident ---------------------------------------------------------------------


async def alert_changes(db: Executor, ticket_id: int) -> list[Record]:
    """The incident's alerts that fired or resolved and are not on its timeline yet."""
    rows: list[Record] = await db.fetch(
        """
        SELECT a.id, a.alertname, s.state, s.at
        FROM alerts a JOIN alert_groups g ON g.id = a.group_id
        CROSS JOIN LATERAL (VALUES ('firing', a.fired_at), ('resolved', a.resolved_at))
            AS s (state, at)
        WHERE g.incident_id = $1 AND s.at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM incident_alert_marks m
                          WHERE m.alert_id = a.id AND m.state = s.state AND m.at = s.at)
        ORDER BY s.at, a.id
        """,
        ticket_id,
    )
    return rows


async def mark_alert(db: Executor, alert_id: int, state: str, at: datetime, ticket_id: int) -> bool:
    status: str = await db.execute(
        "INSERT INTO incident_alert_marks (alert_id, state, at, ticket_id) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING",
        alert_id,
        state,
        at,
        ticket_id,
    )
    return rowcount(status) == 1


async def linked_alerts(db: Executor, ticket_id: int) -> list[tuple[str, str]]:
    """(alert name, state) of the incident's alerts."""
    rows = await db.fetch(
        """
        SELECT a.alertname, a.state FROM alerts a JOIN alert_groups g ON g.id = a.group_id
        WHERE g.incident_id = $1 ORDER BY a.id
        """,
        ticket_id,
    )
    return [(r["alertname"], r["state"]) for r in rows]
