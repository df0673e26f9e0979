"""A ticket's deadlines as time passes, for the escalation scan (services/escalation/scan.py).

Every ticket carries `next_check_at`: the next moment its card's deadline lines change (a
deadline passing, a missed one growing later; `sla.next_check`). The scan takes the tickets
whose moment has come, a batch per transaction, locked with SKIP LOCKED so two replicas never
take the same one, and for each:

- refreshes its card (one edit at most per card per minute: `outbound.refresh_card`);
- when the response deadline passed with nobody answering, tells it once: a private message to
  the assignee (or, without one, the on-call support engineer) and to the next level's on-call
  person, and a timeline entry. With nobody on the roster to tell, the admin chat is told
  instead. A ticket that is an open incident is left to its incident, whose own missed
  deadline tells the same people (services/escalation/scan.py): nobody hears it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services import chats, outbox, roster
from services.classification import Priority
from services.escalation.responders import told_of_breach
from services.i18n import use_locale
from services.outbox import ADMIN_COPY
from services.storage.types import Executor
from services.tickets import history, outbound, render, store
from services.tickets.config import DeskConfig
from services.tickets.model import EventKind, Ticket


@dataclass
class Checked:
    tickets: int = 0  # looked at
    breaches: list[int] = field(default_factory=list)  # tickets whose missed response was told


def response_missed(ticket: Ticket, now: datetime) -> bool:
    """Unanswered past its response deadline and not told yet."""
    return (
        ticket.status.active
        and ticket.first_response_at is None
        and ticket.response_breach_told_at is None
        and ticket.response_due <= now
    )


async def check_due(
    db: Executor,
    cfg: DeskConfig,
    now: datetime,
    *,
    fallback_chat_id: int | None = None,
    limit: int = 200,
) -> Checked:
    """One batch of tickets whose next check has come; call inside a transaction."""
    checked = Checked()
    for ticket_id in await store.due_checks(db, now, limit):
        ticket = await store.get(db, ticket_id)
        checked.tickets += 1
        if response_missed(ticket, now):
            if ticket.open_incident:  # its incident tells its own missed deadline (scan.py)
                await store.bookkeep(db, ticket.id, response_breach_told_at=now)
            else:
                await tell_response_missed(db, cfg, ticket, now, fallback_chat_id=fallback_chat_id)
                checked.breaches.append(ticket.id)
            ticket = replace(ticket, response_breach_told_at=now)
        await outbound.refresh_card(db, ticket, cfg, now)
    return checked


def _outbox_priority(priority: Priority) -> int:
    return {Priority.P0: outbox.PRIORITY_P0, Priority.P1: outbox.PRIORITY_P1}.get(
        priority, outbox.PRIORITY_P2
    )


async def who_to_tell(
    db: Executor, cfg: DeskConfig, ticket: Ticket, now: datetime
) -> list[roster.StaffMember]:
    """The assignee (or level 1's on-call people), then level 2's on-call people: an open
    incident tells its own level (services/escalation/scan.py), so a ticket here is level 1."""
    return await told_of_breach(db, cfg.escalation, cfg.tz, ticket.assignee_id, 1, now)


def _breach_payload(
    ticket: Ticket, now: datetime, cfg: DeskConfig, language: str | None
) -> dict[str, Any]:
    with use_locale(language):
        text, markup = render.breach_notice(ticket, now, cfg.tz, cfg.escalation)
    return outbound.html(text, markup if markup["inline_keyboard"] else None)


async def tell_response_missed(
    db: Executor,
    cfg: DeskConfig,
    ticket: Ticket,
    now: datetime,
    *,
    fallback_chat_id: int | None = None,
) -> list[int]:
    """Tell the missed response deadline once (dedup keys hold even if two scans race)."""
    people = await who_to_tell(db, cfg, ticket, now)
    recipients: list[tuple[int, str | None]] = [(p.user_id, p.language) for p in people]
    if not recipients and fallback_chat_id is not None:
        chat_language = await chats.chat_language(db, fallback_chat_id, cfg.staff_locale)
        recipients = [(fallback_chat_id, chat_language)]
    admin_language = None
    if fallback_chat_id is not None:
        admin_language = await chats.chat_language(db, fallback_chat_id, cfg.staff_locale)
    told: list[int] = []
    for chat_id, language in recipients:
        payload = _breach_payload(ticket, now, cfg, language)
        if chat_id > 0 and admin_language is not None:  # re-sent there if they never started
            payload[ADMIN_COPY] = {
                "language": admin_language,
                **_breach_payload(ticket, now, cfg, admin_language),
            }
        row = await outbox.send_text(
            db,
            chat_id,
            payload,
            dedup_key=f"ticket:{ticket.id}:response_missed:{chat_id}",
            owner=ticket.owner,
            priority=_outbox_priority(ticket.priority),
        )
        if row is not None:
            told.append(chat_id)
    names = {p.user_id: p.display_name for p in people}
    await history.add_event(
        db, ticket.id, EventKind.RESPONSE_BREACHED, at=now,
        details={
            "due": ticket.response_due.isoformat(),
            "late_seconds": (now - ticket.response_due).total_seconds(),
            "told": told,
            "names": [names.get(chat_id, "") for chat_id in told if chat_id in names],
        },
    )  # fmt: skip
    await store.bookkeep(db, ticket.id, response_breach_told_at=now)
    return told
