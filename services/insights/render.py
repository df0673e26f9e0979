"""Insights for people: `/insights` as a Telegram message, and the monthly report's section
(HTML tables and charts). Pure: the caller chooses the language."""

from __future__ import annotations

import base64
from zoneinfo import ZoneInfo

from services.i18n import gettext as _
from services.insights.figures import Attainment, Insights, Timing
from services.reports import charts
from services.text import esc


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _timing_line(t: Timing) -> str:
    return _("{key}: {n} incidents, MTTA {mtta}, MTTR {mttr}").format(
        key=t.key, n=t.incidents, mtta=minutes(t.mtta_s), mttr=minutes(t.mttr_s)
    )


def _level_line(t: Timing) -> str:
    return _("Level {key}: {n} incidents, MTTA {mtta}, MTTR {mttr}").format(
        key=t.key, n=t.incidents, mtta=minutes(t.mtta_s), mttr=minutes(t.mttr_s)
    )


def _sla_line(a: Attainment) -> str:
    return _("{key}: {percent} met ({met} of {known}; {n} tickets)").format(
        key=a.key, percent=percent(a.percent), met=a.met, known=a.known, n=a.tickets
    )


def csat_line(found: Insights) -> str:
    if found.csat_average is None:
        return _("CSAT: no ratings")
    return _("CSAT: {average} of 5 from {n} ratings; {percent} satisfied (4–5)").format(
        average=f"{found.csat_average:.2f}",
        n=found.csat_ratings,
        percent=percent(found.csat_percent),
    )


def followups_line(found: Insights) -> str:
    return _("Follow-ups: {recorded} recorded in the period, {open} open now").format(
        recorded=found.followups_recorded, open=found.followups_open
    )


def period_title(found: Insights) -> str:
    tz = ZoneInfo(found.timezone)
    return _("Insights {start} – {end}").format(
        start=found.start.astimezone(tz).strftime("%Y-%m-%d"),
        end=found.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    )


def message(found: Insights) -> str:
    """`/insights` (HTML)."""
    none = _("none")
    lines = [f"<b>{esc(period_title(found))}</b>", ""]
    lines.append("<b>" + esc(_("MTTA / MTTR per severity")) + "</b>")
    lines += [esc(_timing_line(t)) for t in found.by_severity] or [esc(none)]
    lines.append("<b>" + esc(_("MTTA / MTTR per level")) + "</b>")
    lines += [esc(_level_line(t)) for t in found.by_level] or [esc(none)]
    lines.append("<b>" + esc(_("Incidents per week")) + "</b>")
    lines += [f"{week:%Y-%m-%d}: {n}" for week, n in found.per_week] or [esc(none)]
    lines.append("<b>" + esc(_("Pages per person")) + "</b>")
    lines += [f"{esc(name)}: {n}" for name, n in found.pages[:20]] or [esc(none)]
    lines.append("<b>" + esc(_("Ticket SLA per priority")) + "</b>")
    lines += [esc(_sla_line(a)) for a in found.sla_by_priority] or [esc(none)]
    lines.append("<b>" + esc(_("Ticket SLA per channel")) + "</b>")
    lines += [esc(_sla_line(a)) for a in found.sla_by_channel] or [esc(none)]
    lines.append(esc(csat_line(found)))
    lines.append(esc(followups_line(found)))
    return "\n".join(lines)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def chart_pngs(found: Insights) -> dict[str, bytes]:
    pngs: dict[str, bytes] = {}
    if found.pages:
        pngs["pages"] = charts.bars(
            [(name, n) for name, n in found.pages[:15]],
            title=_("Pages per person"),
            ylabel=_("pages"),
        )
    timed = [t for t in found.by_severity if t.mttr_s is not None or t.mtta_s is not None]
    if timed:
        pngs["mttx"] = charts.grouped_bars(
            [t.key for t in timed],
            {
                "MTTA": [(t.mtta_s or 0) / 60 for t in timed],
                "MTTR": [(t.mttr_s or 0) / 60 for t in timed],
            },
            title=_("MTTA / MTTR per severity"),
            ylabel=_("minutes"),
        )
    return pngs


def html_section(found: Insights, pngs: dict[str, bytes] | None = None) -> str:
    """The monthly report's insights: tables, and the charts when there is data."""
    pngs = chart_pngs(found) if pngs is None else pngs
    timing = [
        [t.key, str(t.incidents), minutes(t.mtta_s), minutes(t.mttr_s)] for t in found.by_severity
    ]
    levels = [
        [t.key, str(t.incidents), minutes(t.mtta_s), minutes(t.mttr_s)] for t in found.by_level
    ]
    sla = [
        [a.key, str(a.tickets), str(a.met), str(a.known), percent(a.percent)]
        for a in [*found.sla_by_priority, *found.sla_by_channel]
    ]
    parts = [
        f"<h2>{esc(_('MTTA / MTTR per severity'))}</h2>",
        _table([_("Severity"), _("Incidents"), "MTTA", "MTTR"], timing),
    ]
    if "mttx" in pngs:
        parts.append(_img(pngs["mttx"], _("MTTA / MTTR per severity")))
    parts += [
        f"<h2>{esc(_('MTTA / MTTR per level'))}</h2>",
        _table([_("Level"), _("Incidents"), "MTTA", "MTTR"], levels),
        f"<h2>{esc(_('Pages per person'))}</h2>",
        _table([_("Person"), _("Pages")], [[name, str(n)] for name, n in found.pages]),
    ]
    if "pages" in pngs:
        parts.append(_img(pngs["pages"], _("Pages per person")))
    parts += [
        f"<h2>{esc(_('Ticket SLA attainment'))}</h2>",
        _table([_("Priority / channel"), _("Tickets"), _("Met"), _("Counted"), "%"], sla),
        f"<h2>{esc(_('Customer satisfaction'))}</h2>",
        f"<p>{esc(csat_line(found))}</p>",
        f"<h2>{esc(_('Follow-ups'))}</h2>",
        f"<p>{esc(followups_line(found))}</p>",
    ]
    return "\n".join(parts)
