"""SQL of the customer-facing side of incidents: public_incidents, public_updates, the linked
tickets (kind 'linked', the incident's ticket as parent) and the proposals (migration 0025)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncpg import Record

from services.massincident.model import PublicIncident
from services.sla import Channel
from services.storage.records import record, rowcount
from services.storage.statements import Table
from services.storage.types import Executor
from services.tickets import store as tickets_store
from services.tickets.model import ACTIVE_VALUES, TicketStatus
from services.users import full_name_sql

_SELECT = """
    SELECT p.*, t.subject, t.priority, t.support_chat_id, t.topic_id, t.topic_outbox_id
    FROM public_incidents p JOIN tickets t ON t.id = p.ticket_id
"""


def _incident(row: Record) -> PublicIncident:
    return record(
        PublicIncident,
        row,
        title=row["subject"],
        categories=tuple(row["categories"]),
        keywords=tuple(row["keywords"]),
    )


async def _one(db: Executor, where: str, *args: Any) -> PublicIncident | None:
    """The incident `where` (a fixed condition on p and t, its values as $n) picks, if any."""
    row = await db.fetchrow(f"{_SELECT} WHERE {where}", *args)
    return _incident(row) if row is not None else None


async def get(db: Executor, ticket_id: int, *, lock: bool = False) -> PublicIncident | None:
    return await _one(db, "p.ticket_id = $1" + (" FOR UPDATE OF p" if lock else ""), ticket_id)


async def is_public(db: Executor, ticket_id: int) -> bool:
    """Was the incident declared customer-facing (open or ended)?"""
    return await _INCIDENTS.exists(db, "ticket_id = $1", ticket_id)


async def open_incidents(db: Executor) -> list[PublicIncident]:
    rows = await db.fetch(_SELECT + " WHERE p.ended_at IS NULL ORDER BY p.declared_at DESC")
    return [_incident(r) for r in rows]


async def by_topic(db: Executor, chat_id: int, topic_id: int) -> PublicIncident | None:
    return await _one(db, "t.support_chat_id = $1 AND t.topic_id = $2", chat_id, topic_id)


async def insert(
    db: Executor,
    *,
    ticket_id: int,
    notice_id: str | None,
    notice_en: str | None,
    categories: tuple[str, ...],
    keywords: tuple[str, ...],
    everyone: bool,
    declared_by: int | None,
    now: datetime,
) -> bool:
    """False: the incident was customer-facing already."""
    status: str = await db.execute(
        """
        INSERT INTO public_incidents (ticket_id, notice_id, notice_en, categories, keywords,
                                      everyone, declared_by, declared_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (ticket_id) DO NOTHING
        """,
        ticket_id,
        notice_id,
        notice_en,
        list(categories),
        list(keywords),
        everyone,
        declared_by,
        now,
    )
    return rowcount(status) == 1


_FIELDS = frozenset(
    {
        "notice_id",
        "notice_en",
        "categories",
        "keywords",
        "everyone",
        "ended_at",
        "support_card_id",
        "admin_card_id",
        "card_edit_at",
        "last_update",
        "last_update_at",
        "digest_outbox_id",
        "digest_lines",
    }
)


_INCIDENTS = Table("public_incidents", key="ticket_id", settable=_FIELDS)
_TICKETS = Table("tickets")


async def update(db: Executor, ticket_id: int, **fields: Any) -> None:
    await _INCIDENTS.update(db, ticket_id, **fields)


# -- linked tickets ---------------------------------------------------------------------------


async def insert_linked(
    db: Executor,
    *,
    parent_id: int,
    customer_id: int,
    priority: str,
    category: str,
    subject: str,
    description: str,
    language: str,
    classification: dict[str, Any],
    now: datetime,
    resolution_due: datetime,
) -> int:
    """A customer's message answered by the notice: the notice is the first response."""
    return await tickets_store.insert(
        db,
        customer_id=customer_id,
        priority=priority,
        category=category,
        channel=Channel.BOT,
        subject=subject,
        description=description,
        language=language,
        classification=classification,
        now=now,
        response_due=now,
        resolution_due=resolution_due,
        status=TicketStatus.ACKNOWLEDGED,
        first_response_at=now,
        kind="linked",
        parent_id=parent_id,
    )


@dataclass(frozen=True)
class Link:
    ticket_id: int
    parent_id: int
    customer_id: int
    status: str
    language: str
    resolved_at: datetime | None


def _link(row: Record) -> Link:
    return record(Link, row, ticket_id=row["id"])


# A link's columns and where they come from (after SELECT, before WHERE).
_LINK_COLUMNS = """t.id, t.parent_id, t.customer_id, t.status,
    coalesce(u.language, t.language) AS language, t.resolved_at
    FROM tickets t JOIN users u ON u.id = t.customer_id"""
# A ticket still being worked on (tickets.model's list), as constants the planner sees.
_ACTIVE = "(" + ", ".join(f"'{status}'" for status in ACTIVE_VALUES) + ")"


async def link(db: Executor, ticket_id: int, *, lock: bool = False) -> Link | None:
    row = await db.fetchrow(
        f"SELECT {_LINK_COLUMNS} WHERE t.id = $1 AND t.kind = 'linked'"
        + (" FOR UPDATE OF t" if lock else ""),
        ticket_id,
    )
    return _link(row) if row is not None else None


async def latest_link_id(db: Executor, parent_id: int, customer_id: int) -> int | None:
    """The customer's newest linked ticket under this incident, if they have one."""
    value: int | None = await db.fetchval(
        """SELECT id FROM tickets WHERE parent_id = $1 AND customer_id = $2 AND kind = 'linked'
           ORDER BY id DESC LIMIT 1""",
        parent_id,
        customer_id,
    )
    return value


@dataclass(frozen=True)
class Situation:
    """Where a customer stands with the mass-incident side when they write."""

    active_link: Link | None  # their live link to an open incident
    has_active_ticket: bool  # a normal ticket of theirs is open
    resolved_link: Link | None  # their latest link resolved since the reopen window began


async def situation(db: Executor, customer_id: int, resolved_since: datetime) -> Situation:
    """Their live link, whether a normal ticket of theirs is open, and their latest link
    resolved since `resolved_since`, in one round trip: it runs for every message a customer
    writes, a storm's bulk."""
    rows = await db.fetch(
        f"""
        (SELECT 'active' AS what, {_LINK_COLUMNS}
         WHERE t.customer_id = $1 AND t.kind = 'linked' AND t.status IN {_ACTIVE}
         ORDER BY t.created_at DESC LIMIT 1)
        UNION ALL
        (SELECT 'ticket', t.id, NULL, t.customer_id, t.status, NULL, NULL FROM tickets t
         WHERE t.customer_id = $1 AND t.kind = 'normal' AND t.status IN {_ACTIVE} LIMIT 1)
        UNION ALL
        (SELECT 'resolved', {_LINK_COLUMNS}
         WHERE t.customer_id = $1 AND t.kind = 'linked' AND t.status = 'resolved'
           AND t.resolved_at >= $2 ORDER BY t.resolved_at DESC LIMIT 1)
        """,
        customer_id,
        resolved_since,
    )
    found = {row["what"]: row for row in rows}
    return Situation(
        active_link=_link(found["active"]) if "active" in found else None,
        has_active_ticket="ticket" in found,
        resolved_link=_link(found["resolved"]) if "resolved" in found else None,
    )


async def recipients(db: Executor, parent_id: int) -> list[Record]:
    """Every customer linked to the incident whose link is live: id, customer, language,
    blocked (the customer blocked the bot: counted, not sent)."""
    return list(
        await db.fetch(
            f"""
            SELECT DISTINCT ON (t.customer_id) t.id, t.customer_id,
                   coalesce(u.language, t.language) AS language,
                   t.customer_blocked_at IS NOT NULL AS blocked
            FROM tickets t JOIN users u ON u.id = t.customer_id
            WHERE t.parent_id = $1 AND t.kind = 'linked'
              AND t.status IN {_ACTIVE}
            ORDER BY t.customer_id, t.id
            """,
            parent_id,
        )
    )


async def set_blocked(db: Executor, customer_id: int, now: datetime) -> None:
    await db.execute(
        f"""UPDATE tickets SET customer_blocked_at = coalesce(customer_blocked_at, $2)
           WHERE customer_id = $1 AND kind = 'linked'
             AND status IN {_ACTIVE}""",
        customer_id,
        now,
    )


async def resolve_links(db: Executor, parent_id: int, now: datetime) -> int:
    status: str = await db.execute(
        f"""UPDATE tickets SET status = 'resolved', resolved_at = $2, updated_at = $2
           WHERE parent_id = $1 AND kind = 'linked'
             AND status IN {_ACTIVE}""",
        parent_id,
        now,
    )
    return rowcount(status)


async def unlink(
    db: Executor, ticket_id: int, now: datetime, *, response_due: datetime,
    resolution_due: datetime,
) -> None:  # fmt: skip
    """The link becomes a normal open ticket (it keeps its parent for the record), its SLA
    clocks starting now."""
    await db.execute(
        """UPDATE tickets SET kind = 'normal', status = 'open', resolved_at = NULL,
                  rating = NULL, first_response_at = NULL, updated_at = $2,
                  response_due = $3, resolution_due = $4
           WHERE id = $1""",
        ticket_id,
        now,
        response_due,
        resolution_due,
    )


async def link_to(db: Executor, ticket_id: int, parent_id: int, now: datetime) -> None:
    """A customer's open ticket joins the incident (they said it is this issue)."""
    await _TICKETS.update(db, ticket_id, kind="linked", parent_id=parent_id, updated_at=now)


@dataclass(frozen=True)
class Affected:
    count: int
    names: tuple[str, ...]
    tickets_today: int  # every ticket customers opened since the day began (linked included)
    rated: int = 0  # linked customers who rated the resolution
    rating: float | None = None  # their average (1-5)


async def affected(db: Executor, parent_id: int, day_start: datetime, names: int) -> Affected:
    row = await db.fetchrow(
        """
        SELECT (SELECT count(DISTINCT customer_id) FROM tickets
                WHERE parent_id = $1 AND kind = 'linked') AS n,
               (SELECT count(*) FROM tickets
                WHERE created_at >= $2 AND channel <> 'admin_chat') AS today,
               r.rated, r.rating
        FROM (SELECT count(rating) AS rated, avg(rating)::float AS rating FROM tickets
              WHERE parent_id = $1 AND kind = 'linked') AS r
        """,
        parent_id,
        day_start,
    )
    rows = await db.fetch(
        f"""
        SELECT {full_name_sql("u")} AS name
        FROM tickets t JOIN users u ON u.id = t.customer_id
        WHERE t.parent_id = $1 AND t.kind = 'linked' ORDER BY t.id DESC LIMIT $2
        """,
        parent_id,
        names,
    )
    return Affected(
        row["n"], tuple(r["name"] for r in rows), row["today"], row["rated"], row["rating"]
    )


async def active_customer_tickets(db: Executor, limit: int = 2000) -> list[Record]:
    """Customers' open normal tickets (those the incident matches are offered the link)."""
    return list(
        await db.fetch(
            f"""
            SELECT t.id, t.customer_id, t.subject, t.description, t.category,
                   coalesce(u.language, t.language) AS language
            FROM tickets t JOIN users u ON u.id = t.customer_id
            WHERE t.kind = 'normal' AND t.status IN {_ACTIVE}
              AND t.channel = 'bot' AND t.customer_id > 0
              AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.ticket_id = t.id)
            ORDER BY t.id LIMIT $1
            """,
            limit,
        )
    )
