"""An incident follows its ticket: what the desk does to a ticket (resolve, close, re-prioritise,
services/tickets/actions.py) carries over to the ticket's incident in the same transaction.

The other way (an incident resolved from its message resolves its ticket) is
`incidents.resolve`, which calls the desk. This module imports nothing of the desk's actions,
so the two features' modules never import each other in a circle.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.escalation import outbound, store
from services.escalation.context import EscalationContext
from services.storage.types import Executor
from services.tickets import briefs as tickets
from services.tickets.config import DeskConfig


def context_of(cfg: DeskConfig) -> EscalationContext:
    """What a desk action knows is enough to edit an incident's copies in place."""
    return EscalationContext(
        rules=cfg.escalation,
        tz=cfg.tz,
        tz_name=cfg.tz.key,
        admin_chat_id=None,
        support_chat_id=cfg.support_chat_id,
        desk=cfg,
        default_locale=cfg.staff_locale,  # DEFAULT_LOCALE: a group's language until one is set
    )


async def is_open_incident(db: Executor, ticket_id: int) -> bool:
    incident = await store.get(db, ticket_id)
    return incident is not None and incident.resolved_at is None


async def ticket_ended(
    db: Executor,
    cfg: DeskConfig,
    now: datetime,
    ticket_id: int,
    *,
    actor_id: int | None,
    how: str,
) -> bool:
    """The ticket was resolved or closed (`how`): its open incident is resolved with it, every
    copy of the incident's message says so. False: no open incident."""
    incident = await store.get(db, ticket_id, lock=True)
    if incident is None or incident.resolved_at is not None:
        return False
    ctx = context_of(cfg)
    who = actor_id if actor_id is not None else tickets.SYSTEM_USER_ID
    done = replace(incident, resolved_by=who, resolved_at=now).with_deadline(ctx.rules)
    if not await store.save(db, done, expected_level=incident.level):
        return False
    await tickets.add_event(
        db, ticket_id, now, actor_id, "incident_ended_with_ticket",
        {"level": done.level, "how": how},
    )  # fmt: skip
    brief = await tickets.brief(db, ticket_id)
    if brief is not None:
        await outbound.refresh_copies(db, ctx, done, brief)
    return True


async def ticket_priority(
    db: Executor,
    cfg: DeskConfig,
    now: datetime,
    ticket_id: int,
    *,
    priority: str,
    actor_id: int | None,
) -> bool:
    """The ticket's priority changed at the desk: its open incident takes it (its deadlines
    follow the new priority's policy) and every copy shows it. False: nothing to change."""
    incident = await store.get(db, ticket_id, lock=True)
    if incident is None or incident.resolved_at is not None or incident.priority == priority:
        return False
    ctx = context_of(cfg)
    moved = replace(incident, priority=priority).with_deadline(ctx.rules)
    if not await store.save(db, moved, expected_level=incident.level):
        return False
    await tickets.add_event(
        db, ticket_id, now, actor_id, "incident_priority_changed",
        {"old": incident.priority, "new": priority, "level": moved.level},
    )  # fmt: skip
    brief = await tickets.brief(db, ticket_id)
    if brief is not None:
        await outbound.refresh_copies(db, ctx, moved, brief)
    return True
