"""The emergency line's resolution target (the seed: "resolved within 30 minutes"): when an
emergency's ticket passes its resolution deadline unresolved, the admin chat and the on-call
people of every level are told at once, loudly, once. Run by the escalation scan."""

from __future__ import annotations

import asyncpg

from services import outbox, roster
from services.clock import Clock
from services.escalation import store_emergency as emergency_store
from services.escalation.context import EscalationContext
from services.escalation.incidents import record_event
from services.i18n import gettext as _
from services.i18n import use_locale
from services.message import html
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import esc, shorten
from services.tickets.model import ticket_number


def render_breach(number: str, title: str, minutes: int) -> str:
    return "\n".join(
        [
            "🚨 "
            + _("<b>Emergency {number} is not resolved after {minutes} minutes</b>").format(
                number=esc(number), minutes=minutes
            ),
            esc(shorten(title, 300)),
            _("The promise was resolution within {minutes} minutes. Every level is told.").format(
                minutes=minutes
            ),
        ]
    )


async def _tell(
    conn: Executor, ctx: EscalationContext, ticket_id: int, number: str, title: str, minutes: int
) -> list[int]:
    people: dict[int, roster.StaffMember] = {}
    for level in range(1, ctx.rules.top_level + 1):
        for person in await roster.on_call_for(conn, ctx.rules.level(level).role.value):
            people.setdefault(person.user_id, person)
    targets: list[tuple[int, str | None]] = [
        (p.user_id, p.language) for p in people.values() if not p.not_started
    ]
    if ctx.admin_chat_id is not None:
        targets.append((ctx.admin_chat_id, None))
    told: list[int] = []
    for chat_id, person_language in targets:
        language = await ctx.language_of(conn, chat_id, person_language)
        with use_locale(language):
            text = render_breach(number, title, minutes)
        row = await outbox.send_text(
            conn,
            chat_id,
            html(text),
            dedup_key=f"sos-breach:{ticket_id}:{chat_id}",
            owner=f"incident:{ticket_id}",
            priority=outbox.PRIORITY_P0,
        )
        if row is not None:
            told.append(chat_id)
    return told


async def breaches_due(pool: asyncpg.Pool, clock: Clock, ctx: EscalationContext) -> list[int]:
    """Tell every unresolved emergency past its resolution deadline; returns their tickets."""
    now = clock.now()
    minutes = ctx.emergency.resolution_minutes
    breached: list[int] = []
    async with transaction(pool) as conn:
        for row in await emergency_store.breaches_due(conn, now):
            number = ticket_number(row["ticket_id"])
            told = await _tell(conn, ctx, row["ticket_id"], number, row["subject"], minutes)
            await emergency_store.breach_told(conn, row["id"], now)
            await record_event(
                conn, clock, row["ticket_id"], None, "emergency_breached", minutes=minutes,
                told=told,
            )  # fmt: skip
            breached.append(row["ticket_id"])
    return breached
