"""Staff-side renderers: the topic title, the ticket card, the /tickets list, topic notices.

Pure functions: a ticket in, HTML text + a keyboard dict out (the Bot API's `reply_markup`
shape), rendered in the current locale (`with use_locale(...)` outside an update). Callback
strings are packed as the handlers' aiogram `CallbackData` factories pack them; a unit test
keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, button
from services.classification import CATEGORY_LABELS, PRIORITY_LABELS, Priority
from services.delivery.splitter import split_text
from services.escalation.policy import EscalationRules
from services.escalation.render import IncidentAction, role_label
from services.i18n import gettext as _
from services.message import Keyboard, key, keyboard
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten
from services.tickets.briefs import topic_url
from services.tickets.model import STATUS_ICONS, STATUS_LABELS, Ticket, TicketStatus

# createForumTopic's name: 1-128 characters, counted by Telegram (TDLib's clean_name ->
# utf8_truncate) in Unicode code points, which is what Python's len() counts; longer names are
# cut there without a word, so the title is trimmed here, where the customer's name gives way.
TOPIC_TITLE_LIMIT = 128

PRIORITY_ICONS: dict[Priority, str] = {
    Priority.P0: "🔴",
    Priority.P1: "🟠",
    Priority.P2: "🟡",
    Priority.P3: "🟢",
}


# -- button families (services.buttons): built here, read by the handlers' filters ------------


@button("tk")
@dataclass(frozen=True)
class TicketAction(Button):
    """A staff card's buttons."""

    id: int
    act: Literal["ack", "pri", "esc", "res", "back"]


@button("tp")
@dataclass(frozen=True)
class TicketPriority(Button):
    id: int
    p: Priority


@button("tr")
@dataclass(frozen=True)
class Rate(Button):
    """The rating stars a customer gets when their ticket is resolved."""

    id: int
    n: int


@button("tc")
@dataclass(frozen=True)
class Mine(Button):
    """A customer's own ticket: view it, close it."""

    id: int
    act: Literal["view", "close"]


@button("tw")
@dataclass(frozen=True)
class Which(Button):
    """ "Which ticket is this message for?" (`m`: the customer's message id)."""

    id: int
    m: int


# -- shared formatting ------------------------------------------------------------------------


def local_time(when: datetime, tz: ZoneInfo) -> str:
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def duration(delta: timedelta) -> str:
    """'2 d 3 h', '1 h 05 min', '7 min' (absolute value)."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("{days} d {hours} h").format(days=days, hours=hours)
    if hours:
        return _("{hours} h {minutes:02d} min").format(hours=hours, minutes=mins)
    return _("{minutes} min").format(minutes=mins)


def clock_line(due: datetime, stopped_at: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """One SLA clock: when it is due and how it stands."""
    when = local_time(due, tz)
    if stopped_at is not None:
        if stopped_at <= due:
            return _("{due} · met at {at}").format(due=when, at=local_time(stopped_at, tz))
        return _("{due} · missed, done at {at}").format(due=when, at=local_time(stopped_at, tz))
    if now <= due:
        return _("{due} · {left} left").format(due=when, left=duration(due - now))
    return _("{due} · ⚠️ overdue by {late}").format(due=when, late=duration(now - due))


def priority_label(priority: Priority) -> str:
    return f"{PRIORITY_ICONS[priority]} {priority.value} {_(PRIORITY_LABELS[priority])}"


def customer_label(ticket: Ticket) -> str:
    username = f" @{ticket.customer_username}" if ticket.customer_username else ""
    return f"{ticket.customer_name}{username}"


# -- topic title and card ---------------------------------------------------------------------


def topic_title(ticket: Ticket) -> str:
    """`✅ QC-000123 · P1 · Budi Santoso`, at most 128 code points (the name gives way, cut
    between whole emoji and letters, never inside a flag or a ZWJ sequence)."""
    head = f"{STATUS_ICONS[ticket.status]} {ticket.number} · {ticket.priority.value} · "
    room = TOPIC_TITLE_LIMIT - len(head)
    name = " ".join(ticket.customer_name.split()) or str(ticket.customer_id)
    return head + shorten(name, room)


def card_keyboard(ticket: Ticket) -> Keyboard:
    if not ticket.status.active:
        return keyboard([])
    first: list[dict[str, str]] = []
    if ticket.status is TicketStatus.OPEN:
        first.append(key(_("👀 Acknowledge"), TicketAction(ticket.id, "ack").pack()))
    first.append(key(_("Priority ▾"), TicketAction(ticket.id, "pri").pack()))
    rows = [
        first,
        [
            key(_("⬆️ Escalate"), TicketAction(ticket.id, "esc").pack()),
            key(_("✅ Resolve"), TicketAction(ticket.id, "res").pack()),
        ],
    ]
    if ticket.open_incident and not ticket.incident_public and ticket.incident_level:
        # The ticket was escalated: staff in its topic may tell every customer hit by the same
        # outage from here (services/massincident, the incident card's own button).
        pub = IncidentAction(ticket.id, "pub", ticket.incident_level).pack()
        rows.append([key(_("📢 Customer-facing"), pub)])
    return keyboard(rows)


def priority_keyboard(ticket: Ticket) -> Keyboard:
    choices = [
        key(("• " if p is ticket.priority else "") + p.value, TicketPriority(ticket.id, p).pack())
        for p in Priority
    ]
    return keyboard([choices, [key(_("« Back"), TicketAction(ticket.id, "back").pack())]])


def incident_line(ticket: Ticket, escalation: EscalationRules | None = None) -> str | None:
    """The card's line about the ticket's incident (its level and who holds it), if any."""
    if ticket.incident_level is None:
        return None
    if ticket.incident_resolved_at is not None:
        return _("Incident: resolved at level {level}").format(level=ticket.incident_level)
    rules = escalation or EscalationRules()
    level = min(max(ticket.incident_level, 1), rules.top_level)
    values = {
        "level": ticket.incident_level,
        "top": rules.top_level,
        "role": esc(role_label(rules.level(level).role.value)),
    }
    if ticket.incident_acknowledged_by:
        return _("Incident: level {level} of {top}, {role} · acknowledged by {name}").format(
            name=esc(ticket.incident_acknowledged_by), **values
        )
    return _("Incident: level {level} of {top}, {role}").format(**values)


def card(
    ticket: Ticket,
    now: datetime,
    tz: ZoneInfo,
    escalation: EscalationRules | None = None,
    *,
    description_limit: int = 1500,
) -> tuple[str, Keyboard]:
    """The message that opens a ticket's topic, edited as the ticket changes: status, priority,
    deadlines (how late, once missed), assignee and incident level. A description longer than
    `description_limit` is quoted shortened; the topic receives it whole after the card."""
    status = f"{STATUS_ICONS[ticket.status]} {_(STATUS_LABELS[ticket.status])}"
    lines = [
        f"<b>{ticket.number}</b> · {priority_label(ticket.priority)} · {status}",
        "",
        _("Customer: {name} (id <code>{id}</code>, language {language})").format(
            name=esc(customer_label(ticket)), id=ticket.customer_id, language=esc(ticket.language)
        ),
        _("Category: {category}").format(category=_(CATEGORY_LABELS[ticket.category])),
        _("Order reference: {ref}").format(
            ref=f"<code>{esc(ticket.order_ref)}</code>" if ticket.order_ref else "—"
        ),
        _("Response due: {clock}").format(
            clock=clock_line(ticket.response_due, ticket.first_response_at, now, tz)
        ),
        _("Resolution due: {clock}").format(
            clock=clock_line(ticket.resolution_due, ticket.resolved_at or ticket.closed_at, now, tz)
        ),
        _("Assignee: {name}").format(name=esc(ticket.assignee_name or "—")),
    ]
    level = incident_line(ticket, escalation)
    if level is not None:
        lines.append(level)
    if ticket.customer_blocked_at is not None:
        lines.append(_("⚠️ The customer has blocked the bot: replies cannot reach them."))
    if ticket.rating is not None:
        lines.append(_("Rating: {stars}").format(stars="⭐" * ticket.rating))
    lines += ["", f"<blockquote>{esc(shorten(ticket.description, description_limit))}</blockquote>"]
    if len(ticket.description) > description_limit:
        lines.append(_("The whole description follows in this topic."))
    return "\n".join(lines), card_keyboard(ticket)


# -- the /tickets list ------------------------------------------------------------------------


def list_line(ticket: Ticket, now: datetime) -> str:
    if ticket.first_response_at is None:
        due, which = ticket.response_due, _("response")
    else:
        due, which = ticket.resolution_due, _("resolution")
    if now <= due:
        clock = _("{which} in {left}").format(which=which, left=duration(due - now))
    else:
        clock = _("⚠️ {which} overdue by {late}").format(which=which, late=duration(now - due))
    assignee = f" · {esc(ticket.assignee_name)}" if ticket.assignee_name else ""
    return (
        f"{PRIORITY_ICONS[ticket.priority]} <b>{ticket.number}</b> {ticket.priority.value} · "
        f"{esc(shorten(ticket.customer_name, 40))} · {esc(shorten(ticket.subject, 40))}"
        f" · {clock}{assignee}"
    )


def ticket_list(tickets: Sequence[Ticket], now: datetime, *, title: str) -> str:
    if not tickets:
        return f"<b>{esc(title)}</b>\n" + _("Nothing here.")
    return "\n".join([f"<b>{esc(title)}</b>", *(list_line(t, now) for t in tickets)])


# -- what the topic is told -------------------------------------------------------------------


# Room for a part's label ("💬 <name> (2/3):"): a customer's name is at most 129 characters.
_LABEL_ROOM = 200


def customer_message_in_topic(ticket: Ticket, text: str) -> list[str]:
    """A customer's text as the topic receives it, escaped and whole: one message, or parts
    that each fit Telegram's limit and each say whose they are and which ("💬 Budi (1/2):"),
    cut at a line break or a space where one is near."""
    return customer_text_in_topic(ticket.customer_name, text)


def customer_text_in_topic(customer_name: str, text: str) -> list[str]:
    """`customer_message_in_topic` by the customer's shown full name (services.users)."""
    name = esc(customer_name)
    parts = split_text(text, html_mode=False, limit=TELEGRAM_TEXT_LIMIT - _LABEL_ROOM)
    if len(parts) <= 1:
        return [f"💬 <b>{name}</b>:\n{esc(text)}"]
    total = len(parts)
    return [
        f"💬 <b>{name}</b> ({number}/{total}):\n{esc(part)}"
        for number, part in enumerate(parts, start=1)
    ]


# What of a caption goes along with the copied photo or document (a caption holds 1,024
# characters, the label included); a longer one also follows as text, whole.
CAPTION_ROOM = 900


def customer_caption_in_topic(ticket: Ticket, caption: str | None) -> str:
    head = f"💬 <b>{esc(ticket.customer_name)}</b>"
    return head if not caption else f"{head}:\n{esc(shorten(caption, CAPTION_ROOM))}"


def breach_notice(
    ticket: Ticket, now: datetime, tz: ZoneInfo, escalation: EscalationRules | None = None
) -> tuple[str, Keyboard]:
    """The private message a missed response deadline sends (once) to whoever must act: the
    assignee or the level's on-call person, and the next level."""
    lines = [
        _("⏰ <b>{number}</b> was not answered in time").format(number=ticket.number),
        f"{priority_label(ticket.priority)} · {esc(shorten(ticket.subject, 80))}",
        _("Customer: {name} (id <code>{id}</code>, language {language})").format(
            name=esc(customer_label(ticket)), id=ticket.customer_id, language=esc(ticket.language)
        ),
        _("Response due: {clock}").format(
            clock=clock_line(ticket.response_due, ticket.first_response_at, now, tz)
        ),
        _("Assignee: {name}").format(name=esc(ticket.assignee_name or "—")),
    ]
    level = incident_line(ticket, escalation)
    if level is not None:
        lines.append(level)
    url = topic_url(ticket.support_chat_id, ticket.topic_id)
    if url is None:
        return "\n".join(lines), keyboard([])
    link = {"text": _("Open ticket {number}").format(number=ticket.number), "url": url}
    return "\n".join(lines), keyboard([[link]])


def topic_notice(kind: str, *, actor: str | None = None, **values: Any) -> str:
    """Short lines the topic receives when something happens to the ticket."""
    who = esc(actor or _("the bot"))
    texts = {
        "acknowledged": _("👀 Acknowledged by {who}."),
        "resolved": _("✅ Resolved by {who}. The customer was asked for a rating."),
        "reopened": _("🔁 The customer wrote again: the ticket is reopened."),
        "rated": _("⭐ The customer rated the help {stars}/5."),
        "closed": _("🔒 Closed by {who}."),
        "auto_closed": _("🔒 Closed automatically after {days} days without a new message."),
        "blocked": _("⚠️ The customer blocked the bot: this reply was not delivered."),
        "priority": _("Priority changed from {old} to {new} by {who}."),
        "assigned": _("Assigned to {assignee} by {who}."),
        "recreated": _("This topic replaces one that was deleted."),
    }
    return texts[kind].format(who=who, **{k: esc(v) for k, v in values.items()})
