"""Read side: `/incidents` and `/timeline`, ready for the renderers."""

from __future__ import annotations

from typing import Any

from services.escalation import outbound, store
from services.escalation.context import EscalationContext
from services.escalation.render import (
    IncidentRow,
    TimelineLine,
    TimelinePage,
    group_label,
    role_label,
)
from services.i18n import gettext as _
from services.rooms.timeline import describe as room_describe
from services.storage.types import Executor
from services.tickets import briefs as tickets


async def open_incident_rows(db: Executor, ctx: EscalationContext) -> list[IncidentRow]:
    rows: list[IncidentRow] = []
    for incident in await store.open_incidents(db):
        ticket = await tickets.brief(db, incident.ticket_id)
        if ticket is None:
            continue
        view = await outbound.view(db, ctx, incident, ticket)
        owner = (
            view.lead or view.acknowledged_by or await tickets.display_name(db, ticket.assignee_id)
        )
        rows.append(IncidentRow(view, owner))
    return rows


def describe(kind: str, actor: str | None, details: dict[str, Any]) -> str:
    """One timeline line in the reader's language."""
    who = actor or _("the bot")
    level = details.get("level") or details.get("to_level")
    if kind.startswith("public_"):  # customer-facing steps (services/massincident)
        from services.massincident.timeline import describe as public_step

        line = public_step(kind, who, details)
        if line is not None:
            return line
    if kind == "incident_notified" and details.get("why") in ("emergency", "emergency_repeat"):
        names = ", ".join(details.get("names") or []) or "—"
        return _("Emergency: every level paged at once ({levels} levels): {names}").format(
            levels=details.get("levels", "?"), names=names
        )
    if kind == "emergency_breached":
        return _("Emergency not resolved within {minutes} minutes: every level told").format(
            minutes=details.get("minutes", "?")
        )
    if kind == "emergency_sms":
        if details.get("ok"):
            return _("Emergency paged by SMS")
        return _("Emergency SMS failed: {error}").format(error=details.get("error") or "?")
    if kind == "incident_notified":
        names = ", ".join(details.get("names") or []) or "—"
        groups = ", ".join(group_label(g) for g in details.get("groups") or [])
        if groups:
            return _("Notified {names}; groups: {groups}").format(names=names, groups=groups)
        return _("Notified {names}").format(names=names)
    if kind == "response_breached":
        names = ", ".join(details.get("names") or []) or _("the admin chat")
        return _("Response deadline missed; told {names}").format(names=names)
    if kind == "incident_escalated":
        text = (
            _("Escalated automatically from level {old} to level {new}")
            if details.get("auto")
            else _("Escalated by {who} from level {old} to level {new}")
        ).format(who=who, old=details.get("from_level"), new=details.get("to_level"))
        if details.get("reason"):
            text += " — " + str(details["reason"])
        return text
    texts = {
        "created": _("Created by {who}"),
        "classified": _("Classified as {priority}"),
        "incident_opened": _("Incident opened at priority {priority}, level 1"),
        "incident_acknowledged": _("Acknowledged by {who} at level {level}"),
        "incident_response_breached": _("Not acknowledged within {minutes} minutes"),
        "incident_resolved": _("Resolved by {who} at level {level}"),
        "incident_closed_with_ticket": _("Incident ended: the ticket was closed"),
        "incident_ended_with_ticket": _("Incident ended with its ticket at level {level}"),
        "incident_priority_changed": _("Incident priority changed from {old} to {new}"),
        "acknowledged": _("Ticket acknowledged by {who}"),
        "assigned": _("Ticket assigned by {who}"),
        "priority_changed": _("Priority changed by {who}"),
        "resolved": _("Ticket resolved by {who}"),
        "reopened": _("Ticket reopened"),
        "closed": _("Ticket closed by {who}"),
        "customer_message": _("Customer wrote"),
        "staff_reply": _("{who} replied"),
        "note": _("{who} added a note"),
    }
    template = texts.get(kind)
    if template is None:
        return room_describe(kind, who, details) or kind.replace("_", " ")
    values = {"who": who, "level": level, "priority": "", "minutes": ""}
    values.update({k: v for k, v in details.items() if isinstance(v, str | int)})
    return template.format(**values)


async def timeline(db: Executor, ticket_id: int) -> TimelinePage | None:
    ticket = await tickets.brief(db, ticket_id)
    if ticket is None:
        return None
    lines = [
        TimelineLine(e.at, describe(e.kind, e.actor_name, e.details))
        for e in await tickets.events(db, ticket_id)
    ]
    return TimelinePage(ticket.number, ticket.title, lines)


def level_name(ctx: EscalationContext, level: int) -> str:
    return role_label(ctx.rules.level(level).role.value)
