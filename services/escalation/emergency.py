"""The emergency line: the seed's "Emergency Hotline — system outage, security incident —
immediate, resolved within 30 minutes, 24/7".

A call arrives from `/sos` (a staff member) or from the voice/SMS provider's signed webhook
(bot/emergency.py). It is stored first; then a P0 incident is opened whose ticket must be
resolved within `resolution_minutes`, and every level of the escalation tree is paged at once
(not one after another). Until someone acknowledges, all levels are paged again every
`repeat_minutes` (`repeat_due`, run by the escalation scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services import roster, staff
from services.alerts.channels import deliver
from services.alerts.config import SecondaryChannels
from services.clock import Clock
from services.escalation import outbound, store
from services.escalation import store_emergency as emergency_store
from services.escalation.context import EscalationContext
from services.escalation.incidents import open_incident, record_notified
from services.escalation.policy import EmergencyRules
from services.escalation.store_emergency import EmergencyCall
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import shorten
from services.tickets import briefs as tickets
from services.tickets.model import ticket_number
from services.users import Person


@dataclass(frozen=True)
class EmergencyOutcome:
    call_id: int
    ticket_id: int
    number: str
    paged: tuple[int, ...]  # user ids paged (every level)
    levels: int  # levels whose on-call people were paged
    duplicate: bool = False  # the provider sent this call before


def title_of(call: EmergencyCall) -> str:
    """Language-neutral: every language reads the ticket's title as it is."""
    return shorten(f"SOS {call.caller}: {call.message}", 200)


def description_of(call: EmergencyCall) -> str:
    lines = [f"SOS ({call.source})", f"caller: {call.caller}"]
    for key in ("phone", "name", "kind"):
        value = call.payload.get(key)
        if value and str(value) != call.caller:
            lines.append(f"{key}: {value}")
    lines.append("")
    lines.append(call.message)
    return "\n".join(lines)


async def _existing(conn: Executor, provider_ref: str) -> EmergencyOutcome | None:
    row = await emergency_store.by_ref(conn, provider_ref)
    if row is None or row["ticket_id"] is None:
        return None
    return EmergencyOutcome(
        call_id=row["id"],
        ticket_id=row["ticket_id"],
        number=ticket_number(row["ticket_id"]),
        paged=(),
        levels=0,
        duplicate=True,
    )


async def page_every_level(
    conn: Executor,
    ctx: EscalationContext,
    ticket_id: int,
    *,
    dedup: str,
    at: datetime,
    skip_level_one: bool = False,
) -> tuple[list[roster.StaffMember], int]:
    """Private pages to whoever is on call at every level at `at` (schedules included), at
    once; (who, levels reached)."""
    incident = await store.get(conn, ticket_id)
    ticket = await tickets.brief(conn, ticket_id)
    assert incident is not None and ticket is not None
    paged: list[roster.StaffMember] = []
    levels = 0
    for level in range(1, ctx.rules.top_level + 1):
        if level == 1 and skip_level_one:
            levels += 1
            continue
        told = await outbound.page_level(
            conn, ctx, incident, ticket, level, variant="page", dedup=dedup, at=at
        )
        if told:
            levels += 1
        paged += [p for p in told if p.user_id not in {q.user_id for q in paged}]
    return paged, levels


async def raise_emergency(
    pool: asyncpg.Pool,
    clock: Clock,
    ctx: EscalationContext,
    call: EmergencyCall,
    *,
    actor: Person | None = None,
    chat_id: int | None = None,
    channels: SecondaryChannels | None = None,
) -> EmergencyOutcome:
    """Store the call, open its P0 incident and page every level now, by Telegram and, when
    RULES_FILE `alerts.channels.sms` is set, by SMS too. Idempotent per `provider_ref`. A
    `/sos` from someone without the right raises NotAllowed (audited)."""
    outcome = await _raise(pool, clock, ctx, call, actor=actor, chat_id=chat_id)
    if channels is not None and channels.sms is not None and not outcome.duplicate:
        await _text_everyone(pool, clock, channels, call, outcome)
    return outcome


async def _text_everyone(
    pool: asyncpg.Pool,
    clock: Clock,
    channels: SecondaryChannels,
    call: EmergencyCall,
    outcome: EmergencyOutcome,
) -> None:
    """The SMS channel (after the Telegram pages are safely queued); its result goes on the
    incident's timeline."""
    text = shorten(f"SOS {outcome.number}: {call.message} ({call.caller})", 400)
    results = await deliver(channels, ["sms"], f"SOS {outcome.number}", text)
    for result in results:
        await tickets.add_event(
            pool,
            outcome.ticket_id,
            clock.now(),
            None,
            "emergency_sms",
            {"ok": result.ok, "error": result.error},
        )


async def _raise(
    pool: asyncpg.Pool,
    clock: Clock,
    ctx: EscalationContext,
    call: EmergencyCall,
    *,
    actor: Person | None,
    chat_id: int | None,
) -> EmergencyOutcome:
    action = Action.SOS if call.source == "sos" else Action.EMERGENCY_CALL
    if actor is not None:
        await staff.require(pool, actor, action, target=call.message[:100], chat_id=chat_id)
    rules = ctx.emergency
    now = clock.now()
    async with transaction(pool) as conn:
        if call.provider_ref is not None:
            await emergency_store.lock_ref(conn, call.provider_ref)
            before = await _existing(conn, call.provider_ref)
            if before is not None:
                return before
        call_id = await emergency_store.add_call(conn, call, now)
        response = ctx.rules.priority("P0").response_time
        ticket_id = await tickets.raise_ticket(
            conn,
            title=title_of(call),
            description=description_of(call),
            priority="P0",
            raised_by=actor.id if actor else None,
            now=now,
            response_minutes=response,
            resolution_minutes=rules.resolution_minutes,
            category="other",
        )
        opened = await open_incident(
            conn,
            clock,
            ctx,
            source="emergency",
            title=title_of(call),
            priority="P0",
            actor=actor,
            ticket_id=ticket_id,
            chat_id=chat_id,
        )
        first = list(opened.told)
        paged, levels = await page_every_level(
            conn, ctx, ticket_id, dedup="sos", at=now, skip_level_one=bool(first)
        )
        await record_notified(conn, clock, ticket_id, paged, "emergency", levels=levels)
        next_page_at = now + timedelta(minutes=rules.repeat_minutes)
        await emergency_store.raised(conn, call_id, ticket_id, next_page_at)
        await staff.done(
            conn,
            actor,
            action,
            target=opened.number,
            chat_id=chat_id,
            caller=call.caller,
            source=call.source,
            levels=levels,
        )
        everyone = tuple(dict.fromkeys([*first, *(p.user_id for p in paged)]))
        return EmergencyOutcome(call_id, ticket_id, opened.number, everyone, levels)


async def repeat_due(pool: asyncpg.Pool, clock: Clock, ctx: EscalationContext) -> list[int]:
    """Page every level again for each emergency nobody acknowledged yet; returns the tickets
    paged. Acknowledged, resolved or worn-out calls stop repeating."""
    rules: EmergencyRules = ctx.emergency
    now = clock.now()
    repeated: list[int] = []
    async with transaction(pool) as conn:
        for row in await emergency_store.repeats_due(conn, now):
            if row["answered"] or row["ticket_id"] is None or row["pages"] >= rules.max_rounds:
                await emergency_store.stop_repeating(conn, row["id"])
                continue
            rounds = row["pages"] + 1
            paged, levels = await page_every_level(
                conn, ctx, row["ticket_id"], dedup=f"sos{rounds}", at=now
            )
            await record_notified(
                conn,
                clock,
                row["ticket_id"],
                paged,
                "emergency_repeat",
                levels=levels,
                round=rounds,
            )
            next_page_at = now + timedelta(minutes=rules.repeat_minutes)
            await emergency_store.repeated(conn, row["id"], rounds, next_page_at)
            repeated.append(row["ticket_id"])
    return repeated
