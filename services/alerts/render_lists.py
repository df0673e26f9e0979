"""Pure renderers of the command answers: `/alerts`, `/silences`, `/maintenance`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from services.alerts.durations import format_duration
from services.alerts.model import AlertRow
from services.alerts.pipeline import Overview
from services.alerts.render import MARKS, TEXT_BUDGET, number, when
from services.alerts.silences import MaintenanceWindow, Silence
from services.i18n import gettext, ngettext
from services.text import esc, shorten


def _labels(alert: AlertRow) -> str:
    shown = {k: v for k, v in sorted(alert.labels.items()) if k not in ("alertname", "severity")}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def _line(alert: AlertRow, tz: tzinfo, extra: str = "") -> str:
    mark = MARKS.get(alert.severity, "⚪")
    labels = _labels(alert)
    value = ""
    if alert.value is not None:
        value = " " + number(alert.value, alert.annotations.get("unit", ""))
    since = when(alert.fired_at or alert.active_since, tz)
    text = f"{mark} <b>{esc(alert.alertname)}</b>"
    if labels:
        text += f" <code>{esc(shorten(labels, 150))}</code>"
    return f"{text}{value} · {since}{extra}"


def _fit(lines: list[str]) -> str:
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > TEXT_BUDGET:
            rest = len(lines) - index
            out.append(
                ngettext("…and {count} more line.", "…and {count} more lines.", rest).format(
                    count=rest
                )
            )
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def render_overview(view: Overview, tz: tzinfo) -> str:
    lines: list[str] = []
    if view.window is not None:
        lines.append(
            "🛠 "
            + gettext("Maintenance until {time}: alerts are recorded, not pushed.").format(
                time=when(view.window.end, tz)
            )
        )
    if not (view.firing or view.pending or view.silenced or view.inhibited):
        lines.append("✅ " + gettext("No alert is firing or pending."))
        return "\n".join(lines)
    if view.firing:
        lines.append("<b>" + gettext("Firing ({count})").format(count=len(view.firing)) + "</b>")
        lines.extend(_line(a, tz) for a in view.firing)
    if view.pending:
        lines.append("<b>" + gettext("Pending ({count})").format(count=len(view.pending)) + "</b>")
        lines.extend(_line(a, tz) for a in view.pending)
    if view.silenced:
        lines.append(
            "<b>" + gettext("Silenced ({count})").format(count=len(view.silenced)) + "</b>"
        )
        lines.extend(
            _line(a, tz, f" · 🔕 #{s.id} → {when(s.ends_at, tz)}") for a, s in view.silenced
        )
    if view.inhibited:
        lines.append(
            "<b>" + gettext("Inhibited ({count})").format(count=len(view.inhibited)) + "</b>"
        )
        lines.extend(
            _line(a, tz, " · 🔇 " + gettext("by {source}").format(source=_source(s)))
            for a, s in view.inhibited
        )
    return _fit(lines)


def _source(alert: AlertRow) -> str:
    labels = _labels(alert)
    text = f"<b>{esc(alert.alertname)}</b>"
    return f"{text} <code>{esc(shorten(labels, 100))}</code>" if labels else text


def render_silences(items: Sequence[Silence], tz: tzinfo, now: datetime) -> str:
    if not items:
        return gettext("No active silence.")
    lines = ["<b>" + gettext("Active silences") + "</b>"]
    for s in items:
        matchers = " ".join(str(m) for m in s.matchers)
        line = gettext("#{id} until {time} (in {left}) by {name}").format(
            id=s.id,
            time=when(s.ends_at, tz),
            left=format_duration(s.ends_at - now),
            name=esc(s.created_name or "?"),
        )
        line += f"\n   <code>{esc(shorten(matchers, 300))}</code>"
        if s.comment:
            line += f" · {esc(shorten(s.comment, 200))}"
        lines.append(line)
    return _fit(lines)


def render_windows(items: Sequence[MaintenanceWindow], tz: tzinfo, now: datetime) -> str:
    if not items:
        return gettext("No maintenance window is running or planned.")
    lines: list[str] = []
    for w in items:
        text = (
            gettext("🛠 Running: {start} – {end} by {name}")
            if w.active(now)
            else gettext("🗓 Planned: {start} – {end} by {name}")
        )
        line = text.format(
            start=when(w.starts_at, tz), end=when(w.end, tz), name=esc(w.created_name or "?")
        )
        if w.reason:
            line += f" · {esc(shorten(w.reason, 200))}"
        lines.append(line)
    return _fit(lines)
