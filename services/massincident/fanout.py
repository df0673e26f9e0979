"""Status updates and the resolution, to every linked customer in their language.

One transaction stores the update (public_updates), queues one outbox row per customer (a
dedup key per customer and update, in one INSERT), writes the incident's timeline and the
audit log, and edits the card: a crash before the commit leaves nothing, after it the outbox
delivers every row once (at most the rows in flight at a crash go twice), within Telegram's
limits (the delivery worker's buckets: 30/s overall, 1/s per chat). Customers who blocked the
bot are counted, not sent to; a 403 on the way counts them too (services/massincident/delivery).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services import audit, staff
from services.clock import Clock
from services.escalation import incidents
from services.escalation.context import EscalationContext
from services.escalation.incidents import AlreadyResolved, Db
from services.i18n import use_locale
from services.massincident import card, render, store
from services.massincident import store_updates as updates
from services.massincident.config import MassContext, MassRules
from services.massincident.declare import NotPublic
from services.message import html
from services.outbox import PRIORITY_P2
from services.staff import Action
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import storable
from services.tickets.model import ticket_number
from services.users import Person

# The fan-out's rows leave after the customers' own answers (PRIORITY_INTERACTIVE) and the
# P0/P1 pages, so that a customer writing during an update still hears back at once.
FANOUT_PRIORITY = PRIORITY_P2

_BILINGUAL = re.compile(r"^\s*id\s*:\s*(?P<id>.+?)\s*\ben\s*:\s*(?P<en>.+?)\s*$", re.S | re.I)


def split_languages(text: str) -> dict[str, str]:
    """'id: Sudah pulih en: Fixed' -> both; anything else is the one text for everyone."""
    found = _BILINGUAL.match(text)
    if found:
        return {"id": found["id"], "en": found["en"]}
    return {"id": text, "en": text}


@dataclass(frozen=True)
class Sent:
    update_id: int
    total: int
    queued: int
    blocked: int


async def _fan_out(
    conn: Executor, mctx: MassContext, incident_id: int, kind: str, texts: dict[str, str],
    by: int | None, now: datetime,
) -> Sent:  # fmt: skip
    public = await store.get(conn, incident_id)
    assert public is not None
    body = texts["id"] if texts["id"] == texts["en"] else f"id: {texts['id']}\nen: {texts['en']}"
    update_id = await updates.insert_update(conn, incident_id, kind, body, by, now)
    payloads = {}
    for language in ("id", "en"):
        with use_locale(language):
            if kind == "resolved":
                text, markup = render.resolved(
                    public, texts[language] or None, mctx.rules.reopen_days
                )
                payloads[language] = html(text, markup)
            else:
                payloads[language] = html(render.update(texts[language]))
    people = await store.recipients(conn, incident_id)
    reachable = [p for p in people if not p["blocked"]]
    blocked = len(people) - len(reachable)
    queued = await updates.enqueue_many(
        conn,
        chat_ids=[p["customer_id"] for p in reachable],
        languages=[p["language"] for p in reachable],
        payload_id=payloads["id"],
        payload_en=payloads["en"],
        owner=f"pubupd:{update_id}",
        dedup_prefix=f"pubupd:{update_id}:",
        priority=FANOUT_PRIORITY,
    )
    await updates.set_totals(conn, update_id, len(people), blocked)
    return Sent(update_id, len(people), queued, blocked)


async def send_customer_update(
    db: Db, clock: Clock, mctx: MassContext, incident_id: int, text: str, by: Person | None,
    *, chat_id: int | None = None,
) -> Sent:  # fmt: skip
    """`/update <text>`: a status update to every linked customer. `by` None: the bot itself
    (an incident room's glue that checked the role already passes the person)."""
    number = ticket_number(incident_id)
    if by is not None:
        await staff.require(db, by, Action.PUBLIC_UPDATE, target=number, chat_id=chat_id)
    text = storable(text.strip())[: render.UPDATE_LIMIT]
    if not text:
        raise ValueError("empty update")
    now = clock.now()
    async with transaction(db) as conn:
        public = await store.get(conn, incident_id, lock=True)
        if public is None:
            raise NotPublic(number)
        if public.ended_at is not None:
            raise AlreadyResolved(number)
        sent = await _fan_out(
            conn, mctx, incident_id, "update", split_languages(text), by.id if by else None, now
        )
        await store.update(conn, incident_id, last_update=text, last_update_at=now)
        await incidents.record_event(
            conn, clock, incident_id, by.id if by else None, "public_update", text=text,
            recipients=sent.total, blocked=sent.blocked, update=sent.update_id,
        )  # fmt: skip
        await audit.record(
            conn, actor_id=by.id if by else None, action=Action.PUBLIC_UPDATE.value,
            allowed=True, target=number, chat_id=chat_id,
            details={"recipients": sent.total, "update": sent.update_id},
        )  # fmt: skip
        await card.refresh(conn, mctx, incident_id, now)
        return sent


async def incident_resolved(
    conn: Executor, clock: Clock, ctx: EscalationContext, incident_id: int,
    actor_id: int | None, *, text: str | None = None, rules: MassRules | None = None,
) -> Sent | None:  # fmt: skip
    """Called by services.escalation.incidents.resolve inside its transaction: a customer-facing
    incident tells every linked customer it is fixed (with what to do if their order is still
    stuck and a rating), resolves their links, and stops matching. None: not customer-facing.
    `rules` None: RULES_FILE's `mass_incidents` (the days a customer may still reopen, said in
    the resolution, are the ones services/massincident/aftercare.py keeps to)."""
    if rules is None:
        found = ctx.rules_file
        rules = found.section("mass_incidents", MassRules) if found is not None else MassRules()
    mctx = MassContext(ctx, rules)
    public = await store.get(conn, incident_id, lock=True)
    if public is None or public.ended_at is not None:
        return None
    now = clock.now()
    await store.update(conn, incident_id, ended_at=now)
    texts = split_languages(text) if text else {"id": "", "en": ""}
    sent = await _fan_out(conn, mctx, incident_id, "resolved", texts, actor_id, now)
    links = await store.resolve_links(conn, incident_id, now)
    await incidents.record_event(
        conn, clock, incident_id, actor_id, "public_resolved", recipients=sent.total,
        blocked=sent.blocked, links_resolved=links, update=sent.update_id,
    )  # fmt: skip
    await card.refresh(conn, mctx, incident_id, now)
    return sent
