"""The desk's tickets as other features see them: a ticket's brief (what an incident shows of
its ticket), raising a ticket for a staff- or alert-raised incident, and the timeline rows
(`ticket_events`) every feature writes. The desk owns these tables; escalation, on-call and
the rest call these functions instead of writing SQL of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.sla import Channel
from services.storage.records import record
from services.storage.types import Executor
from services.tickets import history, store
from services.tickets.model import ACTIVE_VALUES, ticket_number
from services.users import shown_name, shown_name_in

SYSTEM_USER_ID = 0  # the bot itself (users row from 0008)
ACTIVE = frozenset(ACTIVE_VALUES)


@dataclass(frozen=True)
class TicketBrief:
    id: int
    title: str
    priority: str
    status: str
    assignee_id: int | None
    support_chat_id: int | None
    topic_id: int | None
    created_at: datetime

    @property
    def number(self) -> str:
        return ticket_number(self.id)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


async def brief(db: Executor, ticket_id: int) -> TicketBrief | None:
    row = await db.fetchrow(
        """
        SELECT id, subject, priority, status, assignee_id, support_chat_id, topic_id, created_at
        FROM tickets WHERE id = $1
        """,
        ticket_id,
    )
    return None if row is None else record(TicketBrief, row, title=row["subject"])


async def by_topic(db: Executor, chat_id: int, topic_id: int) -> int | None:
    value: int | None = await db.fetchval(
        "SELECT id FROM tickets WHERE support_chat_id = $1 AND topic_id = $2", chat_id, topic_id
    )
    return value


async def raise_ticket(
    db: Executor,
    *,
    title: str,
    description: str,
    priority: str,
    raised_by: int | None,
    now: datetime,
    response_minutes: int,
    resolution_minutes: int,
    category: str = "other",
) -> int:
    """A ticket for an incident that no customer opened (`/incident`, an alert)."""
    ticket_id = await store.insert(
        db,
        customer_id=raised_by if raised_by is not None else SYSTEM_USER_ID,
        priority=priority,
        category=category,
        channel=Channel.ADMIN_CHAT,
        subject=title[:200],
        description=description,
        language="id",
        classification={"source": "incident", "reasons": ["raised as an incident"]},
        now=now,
        response_due=now + timedelta(minutes=response_minutes),
        resolution_due=now + timedelta(minutes=resolution_minutes),
    )
    await add_event(db, ticket_id, now, raised_by, "created", {"source": "incident"})
    return ticket_id


async def add_event(
    db: Executor,
    ticket_id: int,
    at: datetime,
    actor_id: int | None,
    kind: str,
    details: dict[str, Any] | None = None,
) -> None:
    """`history.add_event` in the order the other features call it."""
    await history.add_event(db, ticket_id, kind, at=at, actor_id=actor_id, details=details)


@dataclass(frozen=True)
class Event:
    at: datetime
    actor_id: int | None
    actor_name: str | None
    kind: str
    details: dict[str, Any]


async def events(db: Executor, ticket_id: int) -> list[Event]:
    rows = await db.fetch(
        """
        SELECT e.at, e.actor_id, e.kind, e.details, u.first_name, s.display_name
        FROM ticket_events e
        LEFT JOIN staff s ON s.user_id = e.actor_id
        LEFT JOIN users u ON u.id = e.actor_id
        WHERE e.ticket_id = $1 ORDER BY e.at, e.id
        """,
        ticket_id,
    )
    return [
        record(Event, r, actor_name=shown_name_in(r, r["actor_id"]), details=dict(r["details"]))
        for r in rows
    ]


def topic_url(support_chat_id: int | None, topic_id: int | None) -> str | None:
    """t.me link to a forum topic of a supergroup (-100xxxxxxxxxx ids only)."""
    if support_chat_id is None or topic_id is None:
        return None
    text = str(support_chat_id)
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{topic_id}"


async def display_name(db: Executor, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    row = await db.fetchrow(
        """
        SELECT u.first_name, s.display_name
        FROM (SELECT $1::bigint AS id) p
        LEFT JOIN staff s ON s.user_id = p.id LEFT JOIN users u ON u.id = p.id
        """,
        user_id,
    )
    if row is None or (row["first_name"] is None and row["display_name"] is None):
        return None
    return shown_name(row["first_name"], row["display_name"], user_id)
