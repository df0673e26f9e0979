"""Pure renderers of the room: its topic's name, its pinned live summary, its lines.

Callers choose the language (`with use_locale(...)`); nothing here reads the database or the
clock. Every foreign string goes through `esc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.escalation.render import PRIORITY_ICONS, role_label, when
from services.i18n import gettext as _
from services.text import esc, shorten

TOPIC_NAME_LIMIT = 128


def topic_name(number: str, priority: str, title: str) -> str:
    """`QC-000123 · P0 · Payments failing`, within Telegram's 128 characters."""
    head = f"{number} · {priority} · "
    clean = " ".join(title.split()) or "—"
    return head + shorten(clean, TOPIC_NAME_LIMIT - len(head))


@dataclass(frozen=True)
class SummaryView:
    number: str
    title: str
    priority: str
    status: str  # "open" | "acknowledged" | "resolved"
    level: int
    level_role: str
    lead: str | None
    comms: str | None
    paged: list[str]
    alerts: list[tuple[str, str]]  # (name, state)
    tickets: list[tuple[str, str | None]]  # (number, link)
    customers: int
    opened_at: datetime
    resolved_at: datetime | None
    last_update_at: datetime | None
    last_update_by: str | None
    last_update_text: str | None
    next_update_due: datetime | None
    extra: list[str] = field(default_factory=list)


STATUS_ICONS = {"open": "🚨", "acknowledged": "👀", "resolved": "✅"}


def status_label(status: str) -> str:
    return {
        "open": _("open, not acknowledged"),
        "acknowledged": _("acknowledged, being worked on"),
        "resolved": _("resolved"),
    }.get(status, status)


def summary(view: SummaryView, tz: ZoneInfo, *, update_chars: int = 500) -> str:
    """The pinned live summary (HTML), edited in place on every change."""
    icon = STATUS_ICONS.get(view.status, "🚨")
    nobody = _("nobody yet")
    lines = [
        f"{icon} <b>{esc(view.number)}</b> {PRIORITY_ICONS.get(view.priority, '')} "
        f"<b>{esc(view.priority)}</b> · {esc(shorten(view.title, 200))}",
        _("Status: {status}").format(status=esc(status_label(view.status))),
        _("Severity: {priority}").format(priority=esc(view.priority)),
        _("Lead: {name}").format(name=esc(view.lead or nobody)),
        _("Comms: {name}").format(name=esc(view.comms or nobody)),
        _("Level: {level} ({role})").format(
            level=view.level, role=esc(role_label(view.level_role))
        ),
        _("Paged: {names}").format(names=esc(", ".join(view.paged) or nobody)),
    ]
    if view.alerts:
        alerts = ", ".join(f"{name} ({state})" for name, state in view.alerts[:10])
        if len(view.alerts) > 10:
            alerts += " …"
        lines.append(_("Alerts: {alerts}").format(alerts=esc(alerts)))
    if view.tickets:
        shown = []
        for number, link in view.tickets[:10]:
            shown.append(f'<a href="{esc(link)}">{esc(number)}</a>' if link else esc(number))
        lines.append(_("Tickets: {tickets}").format(tickets=", ".join(shown)))
    lines.append(_("Affected customers: {n}").format(n=view.customers))
    lines.append(_("Opened: {at}").format(at=when(view.opened_at, tz)))
    if view.last_update_at is not None:
        lines.append(
            _("Last update ({at}, {who}): {text}").format(
                at=when(view.last_update_at, tz),
                who=esc(view.last_update_by or "?"),
                text=esc(shorten(view.last_update_text or "", update_chars)),
            )
        )
    else:
        lines.append(_("Last update: none yet"))
    if view.resolved_at is not None:
        lines.append(_("Resolved: {at}").format(at=when(view.resolved_at, tz)))
    elif view.next_update_due is not None:
        lines.append(_("Next update due: {at}").format(at=when(view.next_update_due, tz)))
    lines.extend(view.extra)
    lines.append(
        _("In this room: /lead, /comms @name, /update text, /note text, /followup text @owner, "
          "/timeline, /postmortem; 📌 on a message puts it on the timeline.")
    )  # fmt: skip
    return "\n".join(lines)


def update_line(number: str, who: str, text: str, tz: ZoneInfo, at: datetime) -> str:
    return _("📣 <b>Update on {number}</b> ({at}, {who}):\n{text}").format(
        number=esc(number), at=when(at, tz), who=esc(who), text=esc(text)
    )


def lead_line(number: str, who: str) -> str:
    return _("🧭 {who} leads {number}.").format(who=esc(who), number=esc(number))


def comms_line(number: str, who: str) -> str:
    return _("✉️ {who} writes the customer-facing updates of {number}.").format(
        who=esc(who), number=esc(number)
    )


def reminder_to_lead(number: str, minutes: int) -> str:
    return _(
        "⏰ {number}: no update for {minutes} minutes. Post one in the room with /update."
    ).format(number=esc(number), minutes=minutes)


def reminder_to_level(number: str, minutes: int, lead: str | None) -> str:
    return _(
        "⏰ {number} has had no update for {minutes} minutes, and its lead ({lead}) was "
        "reminded already. Please look in."
    ).format(number=esc(number), minutes=minutes, lead=esc(lead or _("nobody yet")))


def reminder_in_room(number: str, minutes: int, who: str) -> str:
    return _("⏰ No update on {number} for {minutes} minutes; {who} was reminded.").format(
        number=esc(number), minutes=minutes, who=esc(who)
    )


def recreated_line(number: str) -> str:
    return _(
        "This room's topic was deleted; {number} continues here. Its timeline is intact."
    ).format(number=esc(number))
