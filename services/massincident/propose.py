"""The bot notices a mass incident before staff do: N tickets of one category within M minutes,
or fewer while an alert of a customer-facing kind is firing, and no open customer-facing
incident covers that category. It proposes once per category and window in the support group
and the admin chat (one message each); nothing goes to customers until a person with the role
confirms (`confirm`)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from asyncpg import Record

from services import audit, staff
from services.classification import CATEGORY_LABELS, Category
from services.clock import Clock
from services.escalation import incidents
from services.i18n import gettext as _
from services.i18n import use_locale
from services.massincident import card, declare, render, store
from services.massincident import store_proposals as proposals
from services.massincident.config import MassContext
from services.message import html
from services.outbox import PRIORITY_P1, send_text
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.users import Person


@dataclass(frozen=True)
class Proposed:
    proposal_id: int
    category: str
    tickets: int
    alert: str | None


def title_for(category: str) -> str:
    with use_locale("en"):
        label = _(CATEGORY_LABELS[Category(category)])
    return f"{label}: many customers report the same problem"


async def scan(pool: asyncpg.Pool, mctx: MassContext, clock: Clock) -> list[Proposed]:
    """Look at the last M minutes' tickets; propose where the numbers say so."""
    rules = mctx.rules
    now = clock.now()
    window = timedelta(minutes=rules.propose_minutes)
    await proposals.forget_signals(pool, now - window)
    counts = await proposals.customers_by_category(pool, now - window)
    if not counts:
        return []
    covered: set[str] = set()
    for public in await store.open_incidents(pool):
        covered.update(public.categories)
        if public.everyone:
            return []
    alert_names = list(rules.customer_facing_alerts)
    firing = await proposals.firing_alerts(pool, alert_names) if alert_names else []
    made: list[Proposed] = []
    for category, n in sorted(counts.items()):
        if category in covered or category == "other":
            continue
        alert = next((a for a in firing if rules.customer_facing_alerts.get(a) == category), None)
        needed = rules.propose_with_alert_tickets if alert else rules.propose_tickets
        if n < needed:
            continue
        if await proposals.recent_proposal(pool, category, now - window):
            continue
        proposed = await _propose(pool, mctx, clock, category, n, alert)
        if proposed is not None:
            made.append(proposed)
    return made


async def _propose(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, category: str, n: int, alert: str | None
) -> Proposed | None:
    now = clock.now()
    window_start = now.replace(second=0, microsecond=0)
    title = title_for(category)
    async with transaction(pool) as conn:
        # replicas scan too: one at a time per category, and the second sees the first's
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"pubprop:{category}")
        window = timedelta(minutes=mctx.rules.propose_minutes)
        if await proposals.recent_proposal(conn, category, now - window):
            return None
        proposal_id = await proposals.insert_proposal(
            conn, category=category, window_start=window_start, tickets=n, alert=alert,
            title=title, now=now,
        )  # fmt: skip
        if proposal_id is None:
            return None
        for chat_id in (mctx.support_chat_id, mctx.admin_chat_id):
            if chat_id is None:
                continue
            with use_locale(await card.staff_language(conn, mctx, chat_id)):
                notice = render.proposed_notice(title, now, mctx.escalation.tz)
                text = render.proposal(
                    _(CATEGORY_LABELS[Category(category)]).lower(), n,
                    mctx.rules.propose_minutes, alert, notice,
                )  # fmt: skip
                markup = render.proposal_keyboard(proposal_id)
            await send_text(
                conn,
                chat_id,
                html(text, markup),
                owner=f"pubprop:{proposal_id}",
                priority=PRIORITY_P1,
                dedup_key=f"pubprop:{proposal_id}:{chat_id}",
            )
        await audit.record(
            conn, actor_id=None, action="incident.public_proposed", allowed=True,
            target=category, details={"tickets": n, "alert": alert, "proposal": proposal_id},
        )  # fmt: skip
    return Proposed(proposal_id, category, n, alert)


class ProposalWorker:
    """Scans every `scan_seconds` (bot/workers.py owns it)."""

    def __init__(self, pool: asyncpg.Pool, mctx: MassContext, clock: Clock) -> None:
        self.pool, self.mctx, self.clock = pool, mctx, clock
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            await scan(self.pool, self.mctx, self.clock)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.mctx.rules.scan_seconds)

    def stop(self) -> None:
        self._stopping.set()


class ProposalGone(incidents.IncidentError):
    """Decided already (by someone else), or no such proposal."""


async def _undecided(conn: Executor, proposal_id: int) -> Record:
    """The proposal, locked, while nobody has confirmed or dismissed it (else ProposalGone)."""
    row = await proposals.proposal(conn, proposal_id, lock=True)
    if row is None or row["decided_at"] is not None:
        raise ProposalGone(str(proposal_id))
    return row


async def confirm(
    pool: asyncpg.Pool, clock: Clock, mctx: MassContext, proposal_id: int, actor: Person,
    *, chat_id: int | None = None,
) -> declare.Declared:  # fmt: skip
    """The button: opens the incident and declares it customer-facing, for the proposal's
    category. Refused (and audited) without the role."""
    await staff.require(
        pool, actor, Action.DECLARE_PUBLIC, target=f"proposal:{proposal_id}", chat_id=chat_id
    )
    async with transaction(pool) as conn:
        row = await _undecided(conn, proposal_id)
        priority = "P1"
        outcome = await incidents.open_incident(
            conn, clock, mctx.escalation, source="staff", title=row["title"], priority=priority,
            actor=actor, chat_id=chat_id,
        )  # fmt: skip
        await conn.execute(
            "UPDATE tickets SET category = $2 WHERE id = $1",
            outcome.incident.ticket_id,
            row["category"],
        )
        declared = await declare.declare(
            conn, clock, mctx, outcome.incident.ticket_id, actor,
            categories=(row["category"],), chat_id=chat_id, via="proposal",
        )  # fmt: skip
        await proposals.decide_proposal(
            conn, proposal_id, actor.id, clock.now(), outcome.incident.ticket_id
        )
        return declared


async def dismiss(
    pool: asyncpg.Pool, clock: Clock, proposal_id: int, actor: Person, *, chat_id: int | None = None
) -> None:
    await staff.require(
        pool, actor, Action.DECLARE_PUBLIC, target=f"proposal:{proposal_id}", chat_id=chat_id
    )
    async with transaction(pool) as conn:
        await _undecided(conn, proposal_id)
        await conn.execute(
            "UPDATE public_proposals SET decided_by = $2, decided_at = $3 WHERE id = $1",
            proposal_id,
            actor.id,
            clock.now(),
        )
        await audit.record(
            conn, actor_id=actor.id, action="incident.public_dismissed", allowed=True,
            target=f"proposal:{proposal_id}", chat_id=chat_id,
        )  # fmt: skip
