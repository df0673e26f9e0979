"""What customers and staff read about a customer-facing incident (pure functions; the caller
sets the locale: the customer's, or the staff chat's)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.i18n import gettext as _
from services.i18n import ngettext
from services.massincident import buttons as cb
from services.massincident.buttons import Keyboard, keyboard
from services.massincident.buttons import key as button
from services.massincident.model import PublicIncident
from services.massincident.store import Affected
from services.massincident.store_updates import Progress
from services.text import esc, shorten
from services.tickets.render import duration

NOTICE_LIMIT = 1000
UPDATE_LIMIT = 3000


def clock_time(when: datetime, tz: ZoneInfo) -> str:
    return f"{when.astimezone(tz):%H:%M}"


# -- customers --------------------------------------------------------------------------------


def proposed_notice(title: str, since: datetime, tz: ZoneInfo) -> str:
    """The notice the bot proposes from the incident's title (in the current locale)."""
    return _(
        "We know about a problem since {time}: {title}. We are on it; you do not need to do "
        "anything. We will tell you here when it is fixed."
    ).format(time=clock_time(since, tz), title=shorten(" ".join(title.split()), 200))


def notice(incident: PublicIncident, language: str | None, link_id: int) -> tuple[str, Keyboard]:
    text, _fell_back = incident.notice_for(language)
    body = _(
        "ℹ️ <b>Known issue</b>\n{notice}\n\nYour message is saved with this issue ({number}); "
        "you will hear from us here."
    ).format(notice=esc(text), number=incident.number)
    markup = keyboard(
        [
            [button(_("My problem is different"), cb.notice(link_id, "diff"))],
            [button(_("OK"), cb.notice(link_id, "ok"))],
        ]
    )
    return body, markup


def offer(
    incident: PublicIncident, language: str | None, ticket_id: int, number: str
) -> tuple[str, Keyboard]:
    text, _fell_back = incident.notice_for(language)
    body = _(
        "ℹ️ <b>Known issue</b>\n{notice}\n\nIs your ticket {number} about this? Then we add it "
        "to the known issue and tell you here when it is fixed."
    ).format(notice=esc(text), number=esc(number))
    markup = keyboard(
        [
            [button(_("Yes, keep me informed"), cb.notice(ticket_id, "link"))],
            [button(_("No, it is something else"), cb.notice(ticket_id, "no"))],
        ]
    )
    return body, markup


def update(text: str) -> str:
    return _("📣 <b>Update on the known issue</b>\n{text}").format(
        text=esc(shorten(text, UPDATE_LIMIT))
    )


def resolved(incident: PublicIncident, text: str | None, reopen_days: int) -> tuple[str, Keyboard]:
    body = _(
        "✅ <b>Fixed</b>: the known issue is resolved.\n{text}\n\nIf your order is still stuck "
        "(or you paid and the order is not marked paid), just write here within {days} days "
        "and we open a ticket for you at once. How did we do?"
    ).format(text=esc(shorten(text, UPDATE_LIMIT)) if text else "", days=reopen_days)
    stars = [button("⭐" * n, cb.rate(incident.ticket_id, n)) for n in range(1, 6)]
    return body, keyboard([stars])


def follow_up_saved(number: str) -> str:
    return _(
        "Thank you, your message is saved with the known issue ({number}). We will tell you here "
        "when it is fixed."
    ).format(number=esc(number))


def reopened_link(number: str) -> str:
    return _(
        "Sorry it still does not work for you. Your ticket <b>{number}</b> is open and our team "
        "will answer you here."
    ).format(number=esc(number))


def still_there(number: str, link_id: int) -> tuple[str, Keyboard]:
    """After the fix, a linked customer wrote again: is it still not working for them?"""
    body = _(
        "Thank you, your message is saved. The known issue {number} was fixed recently: "
        "is the problem still there for you?"
    ).format(number=esc(number))
    markup = keyboard(
        [
            [button(_("Yes, it is still not working"), cb.notice(link_id, "again"))],
            [button(_("No, it works now"), cb.notice(link_id, "fine"))],
        ]
    )
    return body, markup


def status(incidents: list[PublicIncident], language: str | None, tz: ZoneInfo) -> str:
    if not incidents:
        return _("✅ All systems normal. If something does not work, just write here.")
    lines = [_("⚠️ <b>Known issues right now</b>")]
    for incident in incidents:
        text, _fell_back = incident.notice_for(language)
        lines.append(
            _("• since {time}: {notice}").format(
                time=clock_time(incident.declared_at, tz), notice=esc(shorten(text, 600))
            )
        )
        if incident.last_update:
            lines.append(
                _("  Latest update: {text}").format(text=esc(shorten(incident.last_update, 600)))
            )
    return "\n".join(lines)


# -- staff ------------------------------------------------------------------------------------


def card(
    incident: PublicIncident,
    affected: Affected,
    progress: Progress | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[str, Keyboard]:
    """The one card per staff chat, edited in place."""
    share = round(100 * affected.count / affected.tickets_today) if affected.tickets_today else 0
    lines = [
        _("📢 <b>{number} · customer-facing incident</b>").format(number=incident.number),
        esc(shorten(incident.title, 200)),
        _("Since {time} ({ago})").format(
            time=clock_time(incident.declared_at, tz), ago=duration(now - incident.declared_at)
        ),
        ngettext(
            "👥 {n} affected customer ({share}% of today's tickets)",
            "👥 {n} affected customers ({share}% of today's tickets)",
            affected.count,
        ).format(n=affected.count, share=share),
    ]
    if affected.names:
        lines.append(_("Latest: {names}").format(names=esc(", ".join(affected.names))))
    lines.append(_("Match: {match}").format(match=esc(match_text(incident))))
    lines.append("")
    lines.append(
        _("🇮🇩 Notice: {text}").format(text=esc(shorten(incident.notice_id or "—", NOTICE_LIMIT)))
    )
    lines.append(
        _("🇬🇧 Notice: {text}").format(text=esc(shorten(incident.notice_en or "—", NOTICE_LIMIT)))
    )
    missing = incident.missing_language
    if missing == "en":
        lines.append(_("⚠️ No English notice: English customers get the Indonesian one."))
    elif missing == "id":
        lines.append(_("⚠️ No Indonesian notice: Indonesian customers get the English one."))
    if incident.last_update and incident.last_update_at:
        lines.append("")
        lines.append(
            _("📣 Last update ({time}): {text}").format(
                time=clock_time(incident.last_update_at, tz),
                text=esc(shorten(incident.last_update, 500)),
            )
        )
    if progress is not None:
        lines.append(
            _("📤 Sent {sent} / {total} · blocked {blocked} · failed {failed}").format(
                sent=progress.sent,
                total=progress.total,
                blocked=progress.blocked,
                failed=progress.failed,
            )
        )
    if incident.ended_at is not None:
        lines.append("")
        lines.append(_("✅ Resolved at {time}").format(time=clock_time(incident.ended_at, tz)))
        lines.append(ratings(affected))
        return "\n".join(lines), keyboard([])
    lines.append("")
    lines.append(_("/update &lt;text&gt; in this incident's topic tells every affected customer."))
    return "\n".join(lines), keyboard(
        [
            [button(_("📣 Update customers"), cb.card(incident.ticket_id, "upd"))],
            [button(_("✅ Resolve"), cb.card(incident.ticket_id, "res"))],
        ]
    )


def ratings(affected: Affected) -> str:
    """The linked customers' ratings of the resolution, as they come in."""
    if not affected.rated or affected.rating is None:
        return _("⭐ No ratings yet")
    return ngettext(
        "⭐ {n} rating, average {average}/5",
        "⭐ {n} ratings, average {average}/5",
        affected.rated,
    ).format(n=affected.rated, average=f"{affected.rating:.1f}")


def match_text(incident: PublicIncident) -> str:
    if incident.everyone:
        return _("everyone who writes")
    parts = list(incident.categories) + [f"“{k}”" for k in incident.keywords]
    return ", ".join(parts) or "—"


def linked_in_topic(number: str) -> str:
    return _(
        "🔗 The customer says this is the known issue {number}: this ticket now follows it "
        "(its updates and its resolution)."
    ).format(number=esc(number))


def digest_line(name: str, number: str, text: str) -> str:
    return _("💬 {name} ({number}): {text}").format(
        name=esc(shorten(name, 60)),
        number=esc(number),
        text=esc(shorten(" ".join(text.split()), 300)),
    )


def digest(lines: list[str]) -> str:
    return "\n".join([_("<b>Follow-ups from affected customers</b>"), *lines])


def proposal(
    category_label: str,
    tickets: int,
    minutes: int,
    alert: str | None,
    notice_text: str,
) -> str:
    if alert:
        head = ngettext(
            "⚠️ {n} customer wrote about {category} in {minutes} minutes while {alert} is "
            "firing: declare a customer-facing incident?",
            "⚠️ {n} customers wrote about {category} in {minutes} minutes while {alert} is "
            "firing: declare a customer-facing incident?",
            tickets,
        )
    else:
        head = ngettext(
            "⚠️ {n} customer wrote about {category} in {minutes} minutes: declare a "
            "customer-facing incident?",
            "⚠️ {n} customers wrote about {category} in {minutes} minutes: declare a "
            "customer-facing incident?",
            tickets,
        )
    text = head.format(
        n=tickets, category=esc(category_label), minutes=minutes, alert=esc(alert or "")
    )
    return (
        text
        + "\n\n"
        + _("Proposed notice: {notice}").format(notice=esc(notice_text))
        + "\n"
        + _("Nothing goes to customers until someone with the role confirms.")
    )


def proposal_keyboard(proposal_id: int) -> Keyboard:
    return keyboard(
        [
            [button(_("📢 Declare customer-facing incident"), cb.proposal(proposal_id, "decl"))],
            [button(_("✖️ Not now"), cb.proposal(proposal_id, "no"))],
        ]
    )
