"""Customer-side renderers: what the customer reads, in their language (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from services.classification import CATEGORY_LABELS, PRIORITY_LABELS, Priority
from services.i18n import gettext as _
from services.i18n import ngettext
from services.message import Keyboard, key, keyboard
from services.text import esc, shorten
from services.tickets.model import STATUS_ICONS, STATUS_LABELS, Ticket, TicketStatus
from services.tickets.render import Mine, Rate, Which, duration, local_time


def promise(minutes: int) -> str:
    """'within 1 hour', 'within 15 minutes', 'right away'."""
    if minutes <= 0:
        return _("right away")
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("within {n} hour", "within {n} hours", hours).format(n=hours)
    return ngettext("within {n} minute", "within {n} minutes", minutes).format(n=minutes)


def ticket_created(ticket: Ticket, response_minutes: int) -> str:
    return _(
        "Your ticket <b>{number}</b> is open. Priority: {priority} ({label}). "
        "Our team will answer {promise}. You can keep writing here: everything you send "
        "goes into this ticket."
    ).format(
        number=ticket.number,
        priority=ticket.priority.value,
        label=_(PRIORITY_LABELS[ticket.priority]),
        promise=promise(response_minutes),
    )


def staff_reply(text: str, staff_name: str) -> str:
    """A staff answer as the customer sees it, signed with the staff member's first name."""
    return f"{esc(text)}\n\n— <i>{esc(staff_name)}</i>, " + _("QuickCart Support")


def staff_caption(caption: str | None, staff_name: str) -> str:
    signature = f"— <i>{esc(staff_name)}</i>, " + _("QuickCart Support")
    return f"{esc(shorten(caption, 900))}\n\n{signature}" if caption else signature


def rating_keyboard(ticket_id: int) -> Keyboard:
    return keyboard([[key("⭐" * n, Rate(ticket_id, n).pack()) for n in range(1, 6)]])


def resolved(ticket: Ticket, reopen_days: int) -> tuple[str, Keyboard]:
    text = _(
        "Your ticket <b>{number}</b> is resolved. How did we do? Please rate our help from "
        "1 to 5. If the problem is not solved, just write here within {days} days and the "
        "ticket opens again."
    ).format(number=ticket.number, days=reopen_days)
    return text, rating_keyboard(ticket.id)


def reopened(ticket: Ticket) -> str:
    return _("Your ticket <b>{number}</b> is open again; our team will follow up.").format(
        number=ticket.number
    )


def closed(ticket: Ticket) -> str:
    return _(
        "Your ticket <b>{number}</b> is closed. Thank you for contacting QuickCart! "
        "Write here any time to open a new one."
    ).format(number=ticket.number)


def rated(stars: int) -> str:
    return _("Thank you for your rating ({stars}/5)!").format(stars=stars)


def over_limit(retry_at: datetime, tz: ZoneInfo) -> str:
    return _(
        "You are writing faster than we can take it in. Please write again after {time}."
    ).format(time=local_time(retry_at, tz))


def too_many_tickets(retry_at: datetime, tz: ZoneInfo) -> str:
    return _(
        "You have opened many tickets in the last hour. You can open a new one after {time}; "
        "until then please write in your existing ticket."
    ).format(time=local_time(retry_at, tz))


def banned() -> str:
    return _("Your access to QuickCart support has been suspended.")


def status_label(status: TicketStatus) -> str:
    return f"{STATUS_ICONS[status]} {_(STATUS_LABELS[status])}"


def my_tickets(tickets: Sequence[Ticket], now: datetime) -> tuple[str, Keyboard]:
    if not tickets:
        return _("You have no tickets yet."), keyboard([])
    lines = [_("<b>Your tickets</b>")]
    rows = []
    for t in tickets:
        lines.append(
            _("{number} · {status} · {subject} · opened {age} ago").format(
                number=f"<b>{t.number}</b>",
                status=status_label(t.status),
                subject=esc(shorten(t.subject, 40)),
                age=duration(now - t.created_at),
            )
        )
        rows.append([key(t.number, Mine(t.id, "view").pack())])
    return "\n".join(lines), keyboard(rows[:10])


def ticket_card(
    ticket: Ticket, counts: dict[str, int], now: datetime, tz: ZoneInfo
) -> tuple[str, Keyboard]:
    """One ticket as its customer sees it: what it is about and how the conversation stands."""
    lines = [
        f"<b>{ticket.number}</b> · {status_label(ticket.status)}",
        _("Category: {category}").format(category=_(CATEGORY_LABELS[ticket.category])),
        _("Priority: {priority}").format(priority=priority_name(ticket.priority)),
        _("Opened: {time}").format(time=local_time(ticket.created_at, tz)),
        _("Messages: {mine} from you, {theirs} from our team").format(
            mine=counts.get("in", 0), theirs=counts.get("out", 0)
        ),
        "",
        f"<blockquote>{esc(shorten(ticket.description, 600))}</blockquote>",
    ]
    rows = []
    if ticket.status is not TicketStatus.CLOSED:
        rows.append([key(_("Close ticket"), Mine(ticket.id, "close").pack())])
    return "\n".join(lines), keyboard(rows)


def priority_name(priority: Priority) -> str:
    return f"{priority.value} ({_(PRIORITY_LABELS[priority])})"


def which_ticket(tickets: Sequence[Ticket], message_id: int) -> tuple[str, Keyboard]:
    """Several open tickets: ask where a message goes (the button carries the message id)."""
    rows = [
        [key(f"{t.number} · {shorten(t.subject, 30)}", Which(t.id, message_id).pack())]
        for t in tickets[:8]
    ]
    return _("You have several open tickets. Which one is this message about?"), keyboard(rows)


def chosen(ticket: Ticket) -> str:
    """The "which ticket?" question once answered: it says where the message went."""
    return _("Your message went into <b>{number}</b> · {subject}.").format(
        number=ticket.number, subject=esc(shorten(ticket.subject, 60))
    )


def chosen_toast(ticket: Ticket) -> str:
    return _("Added to {number}.").format(number=ticket.number)
