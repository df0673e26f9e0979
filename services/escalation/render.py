"""Pure renderers: an incident (or a list, or a timeline) in, HTML text + keyboard out.

Callers choose the language (`with use_locale(person.language):`); nothing here reads the
database or the clock. The keyboard is a plain Bot API dict, so the outbox can carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, button
from services.i18n import N_, ngettext
from services.i18n import gettext as _
from services.message import Keyboard, Rendered, key
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten

Act = Literal["ack", "esc", "res", "pub"]  # pub: declare customer-facing (services/massincident)
Variant = Literal["page", "notice", "escalated", "breach", "update"]

ROLE_LABELS: dict[str, str] = {
    "support_engineer": N_("Support Engineer"),
    "senior_engineer": N_("Senior Engineer"),
    "tech_lead": N_("Tech Lead"),
    "engineering_manager": N_("Engineering Manager"),
    "cto": N_("CTO"),
    "security": N_("Security"),
    "management": N_("Management"),
    "product": N_("Product"),
    "dba": N_("Database administrator"),
    "devops": N_("DevOps"),
    "fraud_analyst": N_("Fraud analyst"),
    "admin": N_("Admin"),
}

GROUP_LABELS: dict[str, str] = {
    "all_admins": N_("all admins"),
    "security_team": N_("security team"),
    "management": N_("management"),
    "on_call_engineer": N_("on-call engineer"),
    "team_lead": N_("team lead"),
    "support_team": N_("support team"),
    "product_team": N_("product team"),
}

PRIORITY_ICONS = {"P0": "🔴", "P1": "🟠", "P2": "🟡", "P3": "🔵"}


def role_label(role: str) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


def group_label(group: str) -> str:
    return _(GROUP_LABELS[group]) if group in GROUP_LABELS else group


@button("inc")
@dataclass(frozen=True)
class IncidentAction(Button):
    """An incident's buttons, with the level the presser saw (a stale level is refused)."""

    ticket_id: int
    act: Act
    level: int


def callback_data(ticket_id: int, act: Act, level: int) -> str:
    return IncidentAction(ticket_id, act, level).pack()


@dataclass(frozen=True)
class Mention:
    user_id: int
    name: str


@dataclass(frozen=True)
class IncidentView:
    ticket_id: int
    number: str
    title: str
    priority: str
    level: int
    top_level: int
    level_role: str
    opened_at: datetime
    level_entered_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    topic_url: str | None = None
    level_deadline: datetime | None = None
    lead: str | None = None  # who leads it (/lead in its room, services/rooms)
    room_url: str | None = None  # its room (a topic of the incidents chat), once it exists
    public_offer: bool = False  # not customer-facing yet: the button that declares it


def when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def keyboard(view: IncidentView) -> Keyboard | None:
    def press(label: str, act: Act) -> dict[str, str]:
        return key(label, callback_data(view.ticket_id, act, view.level))

    rows: list[list[dict[str, str]]] = []
    if view.resolved_at is None:
        actions: list[dict[str, str]] = []
        if view.acknowledged_at is None:
            actions.append(press(_("Acknowledge"), "ack"))
        if view.level < view.top_level:
            actions.append(press(_("Escalate ↑"), "esc"))
        actions.append(press(_("Resolve"), "res"))
        rows.append(actions)
        if view.public_offer:
            rows.append([press(_("📢 Customer-facing"), "pub")])
    if view.room_url:
        rows.append([{"text": _("Open the room"), "url": view.room_url}])
    if view.topic_url:
        rows.append(
            [{"text": _("Open ticket {number}").format(number=view.number), "url": view.topic_url}]
        )
    return {"inline_keyboard": rows} if rows else None


def _headline(view: IncidentView, variant: Variant) -> str:
    icon = PRIORITY_ICONS.get(view.priority, "⚪")
    number, priority = esc(view.number), esc(view.priority)
    if view.resolved_at is not None:
        return "✅ " + _("<b>{priority} incident {number} is resolved</b>").format(
            priority=priority, number=number
        )
    if variant == "page":
        return (
            icon
            + " "
            + _("<b>{priority} incident {number} needs you</b>").format(
                priority=priority, number=number
            )
        )
    if variant == "escalated":
        return "⬆️ " + _(
            "<b>{priority} incident {number} was escalated to level {level}</b>"
        ).format(priority=priority, number=number, level=view.level)
    if variant == "breach":
        return "⏰ " + _("<b>{priority} incident {number} was not acknowledged in time</b>").format(
            priority=priority, number=number
        )
    return (
        icon
        + " "
        + _("<b>{priority} incident {number}</b>").format(priority=priority, number=number)
    )


def render_incident(
    view: IncidentView,
    tz: ZoneInfo,
    *,
    variant: Variant = "update",
    told: Sequence[str] = (),
    mentions: Sequence[Mention] = (),
) -> Rendered:
    """The escalation message: every copy (private pages, group notices) renders from this."""
    lines = [_headline(view, variant), esc(shorten(view.title, 500))]
    lines.append(
        _("Level {level} of {top}: {role}").format(
            level=view.level, top=view.top_level, role=esc(role_label(view.level_role))
        )
    )
    if view.lead:
        lines.append(_("Lead: {name}").format(name=esc(view.lead)))
    lines.append(_("Opened {at}").format(at=when(view.opened_at, tz)))
    if view.level > 1:
        lines.append(_("At this level since {at}").format(at=when(view.level_entered_at, tz)))
    if view.acknowledged_at is not None:
        lines.append(
            _("Acknowledged by {name} at {at}").format(
                name=esc(view.acknowledged_by or "?"), at=when(view.acknowledged_at, tz)
            )
        )
    if view.resolved_at is not None:
        lines.append(
            _("Resolved by {name} at {at}").format(
                name=esc(view.resolved_by or "?"), at=when(view.resolved_at, tz)
            )
        )
    elif view.level_deadline is not None:
        lines.append(
            _("Escalates to the next level at {at} unless resolved").format(
                at=when(view.level_deadline, tz)
            )
        )
    if told:
        lines.append(
            _("Notified: {groups}").format(groups=esc(", ".join(group_label(g) for g in told)))
        )
    if mentions:
        lines.append(
            " ".join(f'<a href="tg://user?id={m.user_id}">{esc(m.name)}</a>' for m in mentions)
        )
    text = "\n".join(lines)
    if len(text) > TELEGRAM_TEXT_LIMIT:  # only a huge mention list gets here
        text = "\n".join(lines[:-1]) + "\n" + _("(more people were notified: see /timeline)")
    return Rendered(text=text, reply_markup=keyboard(view))


def render_page_history(
    page_text: str, paged_level: int, was_acknowledged: bool, view: IncidentView, tz: ZoneInfo
) -> Rendered:
    """A private page as it was when it paged its person (`page_text`), with what happened
    since added below it; the buttons follow the incident's current level."""
    lines = [page_text]
    if view.level != paged_level:
        lines.append(
            "➡️ "
            + _("Moved on to level {level} ({role}) at {at}").format(
                level=view.level,
                role=esc(role_label(view.level_role)),
                at=when(view.level_entered_at, tz),
            )
        )
    if view.acknowledged_at is not None and not was_acknowledged:
        lines.append(
            _("Acknowledged by {name} at {at}").format(
                name=esc(view.acknowledged_by or "?"), at=when(view.acknowledged_at, tz)
            )
        )
    if view.resolved_at is not None:
        lines.append(
            "✅ "
            + _("Resolved by {name} at {at}").format(
                name=esc(view.resolved_by or "?"), at=when(view.resolved_at, tz)
            )
        )
    text = "\n".join(lines)
    if len(text) > TELEGRAM_TEXT_LIMIT:
        text = "\n".join([shorten(page_text, TELEGRAM_TEXT_LIMIT - 400), *lines[1:]])
    return Rendered(text=text, reply_markup=keyboard(view))


def render_level_line(view: IncidentView, tz: ZoneInfo, mentions: Sequence[Mention] = ()) -> str:
    """The short new line a group chat gets when an incident moves to another level (its one
    live card is edited in place as well)."""
    line = "⬆️ " + _("{number} moved on to level {level} of {top} ({role}) at {at}").format(
        number=esc(view.number),
        level=view.level,
        top=view.top_level,
        role=esc(role_label(view.level_role)),
        at=when(view.level_entered_at, tz),
    )
    if mentions:
        line += "\n" + " ".join(
            f'<a href="tg://user?id={m.user_id}">{esc(m.name)}</a>' for m in mentions
        )
    if len(line) > TELEGRAM_TEXT_LIMIT:
        line = line.split("\n", 1)[0] + "\n" + _("(more people were notified: see /timeline)")
    return line


def minutes_left(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return _("no time limit")
    minutes = max(0, int((deadline - now) / timedelta(minutes=1)))
    return ngettext("{n} minute left", "{n} minutes left", minutes).format(n=minutes)


@dataclass(frozen=True)
class IncidentRow:
    view: IncidentView
    owner: str | None


def render_incident_list(rows: Sequence[IncidentRow], now: datetime) -> str:
    """`/incidents`: open incidents by priority, level, owner and time left at the level."""
    if not rows:
        return _("No open incidents.")
    lines = [_("<b>Open incidents</b>")]
    for row in rows:
        view = row.view
        lines.append(
            _("{icon} {priority} {number}: level {level} ({role}), owner {owner}, {left}").format(
                icon=PRIORITY_ICONS.get(view.priority, "⚪"),
                priority=esc(view.priority),
                number=esc(view.number),
                level=view.level,
                role=esc(role_label(view.level_role)),
                owner=esc(row.owner) if row.owner else _("nobody yet"),
                left=minutes_left(view.level_deadline, now),
            )
            + "\n    "
            + esc(shorten(view.title, 80))
        )
    return _split_safe(lines)


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    text: str  # already translated plain text; escaped here


@dataclass(frozen=True)
class TimelinePage:
    number: str
    title: str
    lines: list[TimelineLine] = field(default_factory=list)


def render_timeline(page: TimelinePage, tz: ZoneInfo, tz_name: str) -> str:
    """`/timeline`: ready to paste into a post-mortem, times in TIMEZONE."""
    head = [
        _("<b>Timeline of {number}</b> ({tz})").format(number=esc(page.number), tz=esc(tz_name)),
        esc(shorten(page.title, 300)),
    ]
    body = [f"<code>{when(line.at, tz)}</code> {esc(line.text)}" for line in page.lines]
    if not body:
        body = [_("Nothing recorded yet.")]
    return _split_safe(head + body)


def _split_safe(lines: list[str]) -> str:
    """Keep whole lines under Telegram's limit, saying how many were left out."""
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > TELEGRAM_TEXT_LIMIT - 120:
            out.append(
                ngettext(
                    "… and {n} more line (see the ticket's topic).",
                    "… and {n} more lines (see the ticket's topic).",
                    len(lines) - index,
                ).format(n=len(lines) - index)
            )
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
