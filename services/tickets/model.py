"""Tickets as records: status, priority, SLA clocks, messages and the timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services import staff
from services.classification import Category, Priority
from services.i18n import N_
from services.sla import Channel
from services.text import storable, storable_or_none


class TicketStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({TicketStatus.OPEN, TicketStatus.ACKNOWLEDGED, TicketStatus.WAITING})
# the same, as SQL parameters (`status = ANY($n)`), sorted so statements stay the same text
ACTIVE_VALUES = sorted(status.value for status in ACTIVE_STATUSES)

STATUS_LABELS: dict[TicketStatus, str] = {
    TicketStatus.OPEN: N_("open"),
    TicketStatus.ACKNOWLEDGED: N_("acknowledged"),
    TicketStatus.WAITING: N_("waiting for customer"),
    TicketStatus.RESOLVED: N_("resolved"),
    TicketStatus.CLOSED: N_("closed"),
}

STATUS_ICONS: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "🆕",
    TicketStatus.ACKNOWLEDGED: "👀",
    TicketStatus.WAITING: "⏳",
    TicketStatus.RESOLVED: "✅",
    TicketStatus.CLOSED: "🔒",
}


class EventKind(StrEnum):
    CREATED = "created"
    CLASSIFIED = "classified"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    PRIORITY_CHANGED = "priority_changed"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    RATED = "rated"
    CLOSED = "closed"
    CUSTOMER_MESSAGE = "customer_message"
    STAFF_REPLY = "staff_reply"
    NOTE = "note"
    TOPIC_CREATED = "topic_created"
    TOPIC_RECREATED = "topic_recreated"
    CUSTOMER_BLOCKED = "customer_blocked"
    RESPONSE_BREACHED = "response_breached"


class TicketError(Exception):
    """A desk rule refused the action; handlers turn it into a sentence."""


class TicketNotFound(TicketError):
    pass


class NotAllowed(TicketError):
    """The desk will not take it: a banned customer, or a staff member writing as a customer."""


class Refused(NotAllowed, staff.NotAllowed):
    """The permission table's refusal of an action on a ticket (already audited). A TicketError
    for the desk's callers, and `staff.NotAllowed` with its action for the refusal path;
    `str()` is the desk's short reason ("ban", "incident", ...)."""

    def __init__(self, action: staff.Action, reason: str) -> None:
        staff.NotAllowed.__init__(self, action)
        self.args = (reason,)


class AlreadyResolved(TicketError):
    pass


class AlreadyClosed(TicketError):
    pass


@dataclass(frozen=True)
class RateLimited(TicketError):
    """Over an abuse limit; `retry_at` is when the customer may write again."""

    limit: str
    retry_at: datetime


NUMBER_RE = re.compile(r"^\s*#?(?:QC-?)?0*(\d{1,12})\s*$", re.IGNORECASE)


def ticket_number(ticket_id: int) -> str:
    return f"QC-{ticket_id:06d}"


def parse_ticket_number(text: str) -> int | None:
    """'QC-000123', 'qc123', '#123', '123' -> 123."""
    found = NUMBER_RE.match(text)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Ticket:
    id: int
    customer_id: int
    status: TicketStatus
    priority: Priority
    category: Category
    channel: Channel
    subject: str
    description: str
    order_ref: str | None
    language: str
    assignee_id: int | None
    support_chat_id: int | None
    topic_id: int | None
    topic_outbox_id: int | None
    card_outbox_id: int | None
    card_message_id: int | None
    customer_blocked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    response_due: datetime
    resolution_due: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    classification: dict[str, Any] = field(default_factory=dict)
    # joined from users, for cards and lists
    customer_name: str = ""
    customer_username: str | None = None
    assignee_name: str | None = None
    response_breach_told_at: datetime | None = None
    # joined from its incident (services/escalation), when the ticket is one, for the card
    incident_level: int | None = None
    incident_acknowledged_by: str | None = None
    incident_resolved_at: datetime | None = None
    # its incident is customer-facing (services/massincident): the card stops offering it
    incident_public: bool = False
    # 'linked': a customer's message answered by a customer-facing incident's notice
    # (services/massincident): no topic, no card, nothing of it goes into the group.
    kind: str = "normal"

    @property
    def number(self) -> str:
        return ticket_number(self.id)

    @property
    def owner(self) -> str:
        """The outbox owner key: delivery results come back to this ticket."""
        return f"ticket:{self.id}"

    def response_breached(self, now: datetime) -> bool:
        return (self.first_response_at or now) > self.response_due

    def resolution_breached(self, now: datetime) -> bool:
        return (self.resolved_at or self.closed_at or now) > self.resolution_due

    @property
    def running_clocks(self) -> tuple[datetime, ...]:
        """The SLA deadlines still counting: the response until someone answers, the
        resolution until the ticket is resolved or closed."""
        if not self.status.active:
            return ()
        if self.first_response_at is None:
            return (self.response_due, self.resolution_due)
        return (self.resolution_due,)

    @property
    def open_incident(self) -> bool:
        return self.incident_level is not None and self.incident_resolved_at is None


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    direction: str  # in | out | note
    author_id: int | None
    kind: str
    body: str | None
    file_id: str | None
    source_chat_id: int
    source_message_id: int
    relay_outbox_id: int | None
    relay_message_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class TicketEvent:
    id: int
    ticket_id: int
    at: datetime
    actor_id: int | None
    kind: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Incoming:
    """A message as the desk needs it, free of aiogram: who, where, what.

    Every message enters the desk as one of these, so this is where its words are made
    storable (`services.text.storable`: NUL dropped, a lone surrogate replaced), the rest kept,
    stored and relayed (one such character used to lose the whole message)."""

    chat_id: int
    message_id: int
    author_id: int
    kind: str  # text | photo | document | other
    text: str | None = None  # text or caption
    file_id: str | None = None
    author_name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", storable_or_none(self.text))
        object.__setattr__(self, "author_name", storable(self.author_name))

    @property
    def key(self) -> str:
        """The Telegram message's name: what the abuse limit counts once."""
        return f"{self.chat_id}:{self.message_id}"
