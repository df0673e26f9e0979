"""Making an incident customer-facing, and editing its notice and its match. Each step is one
transaction: the change, the incident's timeline, the audit log and the card edit commit
together; the customers with an open matching ticket are offered the link in it too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services import audit, staff
from services.clock import Clock
from services.escalation import incidents
from services.escalation import outbound as escalation_outbound
from services.escalation import store as incident_store
from services.escalation.incidents import AlreadyResolved, Db, NotAnIncident
from services.i18n import use_locale
from services.massincident import card, render, store
from services.massincident.config import MassContext
from services.massincident.links import tell_customer
from services.massincident.model import PublicIncident, guess_categories, matches
from services.message import html
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import storable
from services.tickets import briefs, outbound
from services.tickets import store as desk_repo
from services.tickets.model import ticket_number
from services.users import Person

LANGUAGES = ("id", "en")


class NotPublic(incidents.IncidentError):
    """The incident is not customer-facing."""


@dataclass(frozen=True)
class Declared:
    incident: PublicIncident
    changed: bool
    offered: int = 0


async def declare(
    db: Db,
    clock: Clock,
    mctx: MassContext,
    ticket_id: int,
    actor: Person | None,
    *,
    categories: tuple[str, ...] | None = None,
    keywords: tuple[str, ...] = (),
    everyone: bool = False,
    notice_id: str | None = None,
    notice_en: str | None = None,
    chat_id: int | None = None,
    via: str = "command",
) -> Declared:
    """Mark an open incident customer-facing. Without a notice the bot proposes one from the
    title in both languages; without categories it reads them from the incident's ticket (or
    its title). `actor` None: the bot itself (never: a person confirms a proposal)."""
    number = ticket_number(ticket_id)
    if actor is not None:
        await staff.require(db, actor, Action.DECLARE_PUBLIC, target=number, chat_id=chat_id)
    now = clock.now()
    tz = mctx.escalation.tz
    async with transaction(db) as conn:
        incident = await incident_store.get(conn, ticket_id, lock=True)
        if incident is None:
            raise NotAnIncident(number)
        if incident.resolved_at is not None:
            raise AlreadyResolved(number)
        existing = await store.get(conn, ticket_id)
        if existing is not None:
            return Declared(existing, changed=False)
        ticket = await desk_repo.get(conn, ticket_id)
        if categories is None:
            # a raised incident has no category: its title speaks of one ("Pakasir down"), or
            # what it was raised from does (an alert's summary: "Payment API errors")
            categories = (
                (ticket.category.value,)
                if ticket.category.value != "other"
                else guess_categories(ticket.subject, mctx.classification)
                or guess_categories(ticket.description, mctx.classification)
            )
        notices: dict[str, str | None] = {"id": notice_id, "en": notice_en}
        for language in LANGUAGES:
            if notices[language] is None:
                with use_locale(language):
                    notices[language] = render.proposed_notice(ticket.subject, now, tz)
        await store.insert(
            conn, ticket_id=ticket_id, notice_id=notices["id"], notice_en=notices["en"],
            categories=categories, keywords=keywords, everyone=everyone,
            declared_by=actor.id if actor else None, now=now,
        )  # fmt: skip
        if (
            mctx.support_chat_id is not None
            and ticket.topic_id is None
            and ticket.topic_outbox_id is None
        ):
            # the incident's own topic in the support group: its card, digest and /update
            await outbound.open_topic(conn, ticket, mctx.desk, now)
        await incidents.record_event(
            conn, clock, ticket_id, actor.id if actor else None, "public_declared",
            categories=list(categories), keywords=list(keywords), everyone=everyone,
            notice_id=notices["id"], notice_en=notices["en"], via=via,
        )  # fmt: skip
        await audit.record(
            conn, actor_id=actor.id if actor else None, action=Action.DECLARE_PUBLIC.value,
            allowed=True, target=number, chat_id=chat_id,
            details={"categories": list(categories), "keywords": list(keywords),
                     "everyone": everyone, "via": via},
        )  # fmt: skip
        await card.refresh(conn, mctx, ticket_id, now)
        brief = await briefs.brief(conn, ticket_id)
        if brief is not None:  # its messages lose the "Customer-facing" button
            await escalation_outbound.refresh_copies(conn, mctx.escalation, incident, brief)
        # ...and so does the card of the ticket it was escalated from (at once: a person did it)
        declared = await desk_repo.find(conn, ticket_id)
        if declared is not None:
            await outbound.refresh_card(conn, declared, mctx.desk, now, by_person=True)
        public = await store.get(conn, ticket_id)
        assert public is not None
        offered = await offer_links(conn, mctx, public)
        return Declared(public, changed=True, offered=offered)


async def offer_links(conn: Executor, mctx: MassContext, incident: PublicIncident) -> int:
    """Customers whose open ticket matches are asked whether it is this issue (each once)."""
    offered = 0
    for row in await store.active_customer_tickets(conn):
        text = f"{row['subject']}\n{row['description']}"
        if not matches(incident, text, category=row["category"], rules=mctx.classification):
            continue
        with use_locale(row["language"]):
            body, markup = render.offer(
                incident, row["language"], row["id"], ticket_number(row["id"])
            )
        dedup = f"puboffer:{incident.ticket_id}:{row['id']}"
        queued = await tell_customer(conn, row["customer_id"], row["id"], html(body, markup), dedup)
        offered += queued is not None
    return offered


async def _locked_public(conn: Any, ticket_id: int) -> PublicIncident:
    number = ticket_number(ticket_id)
    public = await store.get(conn, ticket_id, lock=True)
    if public is None:
        raise NotPublic(number)
    if public.ended_at is not None:
        raise AlreadyResolved(number)
    return public


async def set_notice(
    db: Db, clock: Clock, mctx: MassContext, ticket_id: int, actor: Person, language: str,
    text: str, *, chat_id: int | None = None,
) -> PublicIncident:  # fmt: skip
    """Staff edit the notice in one language (an empty text removes it: that language's
    customers then get the other one, and the card says so)."""
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.DECLARE_PUBLIC, target=number, chat_id=chat_id)
    if language not in LANGUAGES:
        raise ValueError(language)
    text = storable(text.strip())[: render.NOTICE_LIMIT]
    now = clock.now()
    async with transaction(db) as conn:
        await _locked_public(conn, ticket_id)
        await store.update(conn, ticket_id, **{f"notice_{language}": text or None})
        await incidents.record_event(
            conn, clock, ticket_id, actor.id, "public_notice_changed", language=language,
            notice=text or None,
        )  # fmt: skip
        await audit.record(
            conn, actor_id=actor.id, action=Action.DECLARE_PUBLIC.value, allowed=True,
            target=number, chat_id=chat_id, details={"notice": language},
        )  # fmt: skip
        await card.refresh(conn, mctx, ticket_id, now)
        public = await store.get(conn, ticket_id)
        assert public is not None
        return public


async def set_match(
    db: Db, clock: Clock, mctx: MassContext, ticket_id: int, actor: Person, *,
    categories: tuple[str, ...], keywords: tuple[str, ...], everyone: bool,
    chat_id: int | None = None,
) -> PublicIncident:  # fmt: skip
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.DECLARE_PUBLIC, target=number, chat_id=chat_id)
    now = clock.now()
    async with transaction(db) as conn:
        await _locked_public(conn, ticket_id)
        await store.update(
            conn, ticket_id, categories=categories, keywords=keywords, everyone=everyone
        )
        await incidents.record_event(
            conn, clock, ticket_id, actor.id, "public_match_changed",
            categories=list(categories), keywords=list(keywords), everyone=everyone,
        )  # fmt: skip
        await audit.record(
            conn, actor_id=actor.id, action=Action.DECLARE_PUBLIC.value, allowed=True,
            target=number, chat_id=chat_id, details={"match": list(categories) + list(keywords),
                                                     "everyone": everyone},
        )  # fmt: skip
        await card.refresh(conn, mctx, ticket_id, now)
        public = await store.get(conn, ticket_id)
        assert public is not None
        return public
