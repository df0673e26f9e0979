"""The report for people: headline figures as a Telegram message, the full report as an HTML
file with the charts embedded as base64 PNGs (opens in any browser, no network needed)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from services.i18n import gettext as _
from services.insights import render as insights_render
from services.reports import charts
from services.reports.data import ReportData
from services.text import esc


@dataclass(frozen=True)
class RenderedReport:
    headline: str  # HTML for Telegram (parse_mode HTML)
    html: str
    filename: str
    charts: dict[str, bytes]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def _title(data: ReportData) -> str:
    tz = ZoneInfo(data.timezone)
    start = data.start.astimezone(tz).strftime("%Y-%m-%d")
    end = data.end.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if data.kind == "weekly":
        return _("Weekly report {start} – {end}").format(start=start, end=end)
    return _("Monthly maintenance report {start} – {end}").format(start=start, end=end)


def headline(data: ReportData) -> str:
    met = data.uptime_met
    verdict = "-" if met is None else ("✅" if met else "❌")
    restores = len(data.restore_tests)
    restores_ok = sum(1 for _at, ok, _s in data.restore_tests if ok)
    lines = [
        f"<b>{esc(_title(data))}</b>",
        _("Uptime: {uptime} (target {target} %) {verdict}").format(
            uptime=_pct(data.uptime_percent), target=data.uptime_target, verdict=verdict
        ),
        _("Incidents: {count}, escalations: {escalations}, alerts: {alerts}").format(
            count=data.incidents_total, escalations=data.escalations, alerts=data.alerts_total
        ),
        _(
            "Backups verified: {checks} ({failures} failed); restore tests: {ok} of {total} ok"
        ).format(
            checks=data.backup_checks,
            failures=data.backup_failures,
            ok=restores_ok,
            total=restores,
        ),
        _("Maintenance runs: {total}, failed: {failed}").format(
            total=sum(data.runs_by_status.values()), failed=data.runs_by_status.get("failed", 0)
        ),
        _("Fraud false positives: {rate}, review queue: {queue}").format(
            rate=_pct(data.false_positive_percent),
            queue="-" if data.review_queue is None else f"{data.review_queue:.0f}",
        ),
    ]
    if data.insights is not None:
        lines.append(esc(insights_render.followups_line(data.insights)))
    return "\n".join(lines)


def _img(png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _has_points(points: list[tuple[date, float | None]]) -> bool:
    return any(value is not None for _d, value in points)


def _charts(data: ReportData) -> dict[str, bytes]:
    """The charts that have something to show; a chart without data is not drawn (its place
    in the report says so) rather than drawn as empty axes."""
    pngs: dict[str, bytes] = {}
    if _has_points(data.uptime_by_day):
        pngs["uptime"] = charts.line_per_day(
            data.uptime_by_day,
            title=_("Uptime per day"),
            ylabel="%",
            target=data.uptime_target,
            ylim=(min([90.0] + [v for _d, v in data.uptime_by_day if v is not None]), 100.5),
        )
    if data.incidents_per_week:
        pngs["incidents"] = charts.bars_per_week(
            data.incidents_per_week, title=_("Incidents per week"), ylabel=_("incidents")
        )
    if _has_points(data.payment_by_day):
        pngs["payments"] = charts.line_per_day(
            data.payment_by_day,
            title=_("Payment success rate per day"),
            ylabel="%",
            target=95.0,
        )
    return pngs


def _chart(pngs: dict[str, bytes], key: str, alt: str) -> str:
    if key not in pngs:
        return (
            "<p><em>"
            + esc(_("No data for “{chart}” in this period.").format(chart=alt))
            + "</em></p>"
        )
    return _img(pngs[key], alt)


def render(data: ReportData) -> RenderedReport:
    tz = ZoneInfo(data.timezone)
    pngs = _charts(data)
    incidents = [
        [
            i.priority,
            str(i.count),
            str(i.resolved),
            _pct(i.sla_percent),
            _minutes(i.mtta_s),
            _minutes(i.mttr_s),
        ]
        for i in data.incidents
    ]
    failed = [
        [job, at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), summary]
        for job, at, summary in data.failed_runs
    ]
    restores = [
        [
            at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            _("ok") if ok else _("failed"),
            f"{seconds:.1f} s",
        ]
        for at, ok, seconds in data.restore_tests
    ]
    alerts = [[severity, str(n)] for severity, n in sorted(data.alerts_by_severity.items())]
    title = _title(data)
    sections = [
        f"<h1>{esc(title)}</h1>",
        "<p>" + headline(data).replace("\n", "<br>") + "</p>",
        f"<h2>{esc(_('Uptime per day'))}</h2>",
        _chart(pngs, "uptime", _("Uptime per day")),
        f"<h2>{esc(_('Incidents by priority'))}</h2>",
        _table(
            [_("Priority"), _("Incidents"), _("Resolved"), _("SLA met"), "MTTA", "MTTR"], incidents
        ),
        _chart(pngs, "incidents", _("Incidents per week")),
        f"<h2>{esc(_('Alerts by severity'))}</h2>",
        _table([_("Severity"), _("Alerts")], alerts),
        f"<h2>{esc(_('Restore tests'))}</h2>",
        _table([_("When"), _("Result"), _("Duration")], restores),
        f"<h2>{esc(_('Failed maintenance runs'))}</h2>",
        _table([_("Job"), _("When"), _("Summary")], failed),
        f"<h2>{esc(_('Payment success rate per day'))}</h2>",
        _chart(pngs, "payments", _("Payment success rate per day")),
    ]
    if data.insights is not None:
        sections.append(insights_render.html_section(data.insights))
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>body{{font-family:sans-serif;max-width:900px;"
        "margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:4px 8px}img{max-width:100%}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )
    stamp = data.start.astimezone(tz).strftime("%Y-%m-%d")
    return RenderedReport(headline(data), html, f"quickcart-{data.kind}-report-{stamp}.html", pngs)
