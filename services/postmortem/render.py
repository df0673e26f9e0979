"""A postmortem draft as a chat message (HTML), a Markdown document and an HTML document.
Pure: the language is the caller's (`use_locale`), times are shown in TIMEZONE."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from services.escalation.render import when
from services.i18n import gettext as _
from services.postmortem.build import Postmortem
from services.text import esc, shorten


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=minutes)


def _payments(pm: Postmortem) -> str:
    if pm.payments_failed is None:
        return _("unknown (QuickCart's database is not configured or did not answer)")
    return str(pm.payments_failed)


def _detection(pm: Postmortem, tz: ZoneInfo) -> str:
    if pm.first_alert and pm.first_alert_at:
        return _("First alert: {alert} at {at}").format(
            alert=pm.first_alert, at=when(pm.first_alert_at, tz)
        )
    sources = {
        "alert": _("an alert"),
        "ticket": _("a customer's ticket"),
        "staff": _("a person on staff (/incident)"),
        "emergency": _("the emergency line"),
    }
    return _("Raised by {source} at {at}").format(
        source=sources.get(pm.source, pm.source), at=when(pm.opened_at, tz)
    )


def sections(pm: Postmortem, tz: ZoneInfo) -> list[tuple[str, list[str]]]:
    """(heading, plain-text lines) in order; every format is made from these."""
    nobody = _("nobody")
    summary = [
        _("Incident: {number} · {priority} · {title}").format(
            number=pm.number, priority=pm.priority, title=pm.title
        ),
        _("Opened: {at}").format(at=when(pm.opened_at, tz)),
        _("Resolved: {at}").format(at=when(pm.resolved_at, tz) if pm.resolved_at else "—"),
        _("Lead: {name}").format(name=pm.lead or nobody),
        _("Comms: {name}").format(name=pm.comms or nobody),
        _("Highest level reached: {level}").format(level=pm.level),
    ]
    if pm.last_update:
        summary.append(_("Last update: {text}").format(text=shorten(pm.last_update, 1000)))
    impact = [
        _("Duration: {duration}").format(duration=duration(pm.duration_s)),
        _("Customers affected: {n}").format(n=pm.customers),
        _("Payments failed during the incident: {n}").format(n=_payments(pm)),
    ]
    detection = [
        _detection(pm, tz),
        _("Time to acknowledge (MTTA): {duration}").format(duration=duration(pm.mtta_s)),
        _("Time to resolve (MTTR): {duration}").format(duration=duration(pm.mttr_s)),
    ]
    timeline = [f"{when(line.at, tz)}  {line.text}" for line in pm.timeline] or [
        _("Nothing recorded.")
    ]
    followups = [
        ("[x] " if f.done else "[ ] ") + f.text + (f" ({f.owner})" if f.owner else "")
        for f in pm.followups
    ] or [_("None recorded yet: add them with /followup in the room.")]
    todo = _("(to be written by the people who handled it)")
    return [
        (_("Summary"), summary),
        (_("Impact"), impact),
        (_("Detection"), detection),
        (_("Timeline ({tz})").format(tz=str(tz)), timeline),
        (_("Follow-ups"), followups),
        (_("Root cause"), [todo]),
        (_("Lessons learned"), [todo]),
    ]


def title(pm: Postmortem) -> str:
    return _("Postmortem draft: {number} · {priority} · {title}").format(
        number=pm.number, priority=pm.priority, title=pm.title
    )


def markdown(pm: Postmortem, tz: ZoneInfo) -> str:
    out = [f"# {title(pm)}", ""]
    for heading, lines in sections(pm, tz):
        out += [f"## {heading}", ""]
        out += [f"- {line}" for line in lines]
        out.append("")
    return "\n".join(out)


def html_document(pm: Postmortem, tz: ZoneInfo) -> str:
    parts = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(title(pm))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "li{margin:.2em 0}h2{border-bottom:1px solid #ccc}</style>",
        "</head><body>",
        f"<h1>{html.escape(title(pm))}</h1>",
    ]
    for heading, lines in sections(pm, tz):
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>")
        parts += [f"<li>{html.escape(line)}</li>" for line in lines]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def chat_message(pm: Postmortem, tz: ZoneInfo) -> str:
    """The draft's head in the room; the whole draft is in the attached documents."""
    lines = [f"📝 <b>{esc(title(pm))}</b>"]
    for heading, body in sections(pm, tz)[:3]:
        lines.append(f"\n<b>{esc(heading)}</b>")
        lines += [esc(shorten(line, 300)) for line in body]
    lines.append(
        "\n"
        + esc(
            _(
                "The full draft (timeline, follow-ups, root cause and lessons to fill in) is "
                "attached as Markdown and HTML. /postmortem makes it again after edits."
            )
        )
    )
    return "\n".join(lines)
