"""Pure renderers: an alert group -> HTML text + inline keyboard; a maintenance summary; plain
text for the secondary channels. Every foreign string passes through `esc`.

Callback data is `al:<group id>:<action>` (actions below), the same string the handler's
`AlertAction(CallbackData, prefix="al")` packs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal

from services import message
from services.alerts.model import AlertRow
from services.alerts.silences import MutedAlert
from services.buttons import Button, button
from services.i18n import N_, gettext, ngettext
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten
from services.tickets.model import ticket_number

ACTIONS = ("ack", "s1", "s4", "s24", "esc", "res")
SILENCE_HOURS = {"s1": 1, "s4": 4, "s24": 24}
MARKS = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
SEVERITY_NAMES = {"critical": N_("critical"), "warning": N_("warning"), "info": N_("info")}
STATE_NAMES = {
    "firing": N_("firing"),
    "pending": N_("pending"),
    "resolved": N_("resolved"),
    "inactive": N_("inactive"),
}
TEXT_BUDGET = TELEGRAM_TEXT_LIMIT - 300  # room for the footer lines
HIDDEN_LABELS = frozenset({"alertname", "severity"})


AlertAct = Literal["ack", "s1", "s4", "s24", "esc", "res"]


@button("al")
@dataclass(frozen=True)
class AlertAction(Button):
    """An alert group's buttons: acknowledge, silence 1/4/24 h, escalate, resolve."""

    g: int
    a: AlertAct


def callback_data(group_id: int, action: AlertAct) -> str:
    return AlertAction(group_id, action).pack()


@dataclass(frozen=True)
class GroupView:
    id: int
    alertname: str
    severity: str
    alerts: Sequence[AlertRow]
    group_labels: Mapping[str, str] = field(default_factory=dict)
    acknowledged_name: str | None = None
    acknowledged_at: datetime | None = None
    incident_id: int | None = None
    silenced_until: datetime | None = None
    silenced_name: str | None = None
    silenced_fingerprints: frozenset[str] = frozenset()
    repeat: bool = False
    # fingerprint of a firing alert an inhibit rule mutes -> the alertname of what mutes it
    inhibited: Mapping[str, str] = field(default_factory=dict)

    @property
    def firing(self) -> list[AlertRow]:
        return [a for a in self.alerts if a.state == "firing"]

    @property
    def resolved(self) -> bool:
        return not self.firing


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "parse_mode": "HTML",
            "reply_markup": self.reply_markup,
            "link_preview_options": {"is_disabled": True},
        }


def when(at: datetime | None, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "?"


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "?"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")
    return f"{text} {unit}".rstrip() if unit and unit != "%" else f"{text}{unit}"


def differing_labels(alert: AlertRow, common: Mapping[str, str], *, named: bool = False) -> str:
    """The labels that tell this alert from the rest of its group (`named`: the group holds
    alerts of several names, grouped by a route's `group_by` without alertname)."""
    hidden = HIDDEN_LABELS - {"alertname"} if named else HIDDEN_LABELS
    shown = {
        k: v for k, v in sorted(alert.labels.items()) if k not in hidden and common.get(k) != v
    }
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def common_labels(alerts: Sequence[AlertRow]) -> dict[str, str]:
    if not alerts:
        return {}
    first = dict(alerts[0].labels)
    if len(alerts) == 1:
        return {}
    return {k: v for k, v in first.items() if all(a.labels.get(k) == v for a in alerts[1:])}


def _alert_line(
    alert: AlertRow, common: Mapping[str, str], tz: tzinfo, silenced: bool, named: bool = False
) -> str:
    labels = differing_labels(alert, common, named=named)
    head = f"<code>{esc(shorten(labels, 200))}</code>: " if labels else ""
    unit = alert.annotations.get("unit", "")
    if alert.state == "resolved":
        body = gettext("resolved at {time}").format(time=when(alert.resolved_at, tz))
        return f"✅ {head}{body}"
    if alert.value is not None and alert.threshold is not None:
        body = gettext("{value} (threshold {comparison} {threshold}), since {since}").format(
            value=number(alert.value, unit),
            comparison=esc(alert.comparison or ""),
            threshold=number(alert.threshold, unit),
            since=when(alert.fired_at, tz),
        )
    else:
        body = gettext("since {since}").format(since=when(alert.fired_at, tz))
    mark = "🔕 " if silenced else "• "
    return f"{mark}{head}{body}"


def _description(alerts: Sequence[AlertRow]) -> str:
    for alert in alerts:
        for key in ("summary", "description", "message"):
            if alert.annotations.get(key):
                # the default rules' summaries are in the catalogue; an outside text is not
                return esc(shorten(gettext(alert.annotations[key]), 600))
    return ""


def _runbook(alerts: Sequence[AlertRow]) -> str | None:
    for alert in alerts:
        url = alert.runbook_url or alert.annotations.get("runbook_url")
        if url and url.startswith(("http://", "https://")):
            return url
    return None


def render_group(view: GroupView, tz: tzinfo) -> Rendered:
    """The one message of an alert group, in the current locale."""
    name = esc(view.alertname)
    mark = MARKS.get(view.severity, "⚪")
    severity = gettext(SEVERITY_NAMES.get(view.severity, view.severity))
    if view.resolved:
        title = "✅ <b>" + gettext("Resolved: {name}").format(name=name) + "</b>"
    else:
        title = f"{mark} <b>" + gettext("Firing: {name}").format(name=name) + "</b>"
        title += f" · {esc(severity)}"
    lines = [title]
    description = _description(view.alerts)
    if description:
        lines.append(description)
    common = common_labels(view.alerts)
    ordered = sorted(view.alerts, key=lambda a: (a.state != "firing", a.fingerprint))
    named = len({a.alertname for a in view.alerts}) > 1

    def alert_lines() -> Iterator[str]:
        for alert in ordered:
            silenced = alert.fingerprint in view.silenced_fingerprints
            line = _alert_line(alert, common, tz, silenced, named)
            source = view.inhibited.get(alert.fingerprint) if alert.state == "firing" else None
            if source is not None:
                line = "🔇 " + line.removeprefix("• ").removeprefix("🔕 ")
                line += " · " + gettext("inhibited by {name}").format(name=esc(source))
            yield line

    _fit(lines, alert_lines(), len(ordered))
    runbook = _runbook(view.alerts)
    if runbook:
        lines.append(
            f'📖 <a href="{esc(runbook).replace(chr(34), "%22")}">' + gettext("Runbook") + "</a>"
        )
    if view.acknowledged_name:
        lines.append(
            "👤 "
            + gettext("Acknowledged by {name} at {time}").format(
                name=esc(view.acknowledged_name), time=when(view.acknowledged_at, tz)
            )
        )
    if view.silenced_until and not view.resolved:
        lines.append(
            "🔕 "
            + gettext("Silenced until {time} by {name}").format(
                time=when(view.silenced_until, tz), name=esc(view.silenced_name or "?")
            )
        )
    if view.incident_id is not None:
        # The incident's ticket number (QC-000123), the one /timeline and /escalate accept.
        number = ticket_number(view.incident_id)
        lines.append("🆘 " + gettext("Escalated: incident {number}").format(number=number))
    if view.repeat and not view.resolved:
        lines.append("🔁 " + gettext("Still firing and not acknowledged."))
    text = "\n".join(lines)
    return Rendered(text, {"inline_keyboard": [] if view.resolved else keyboard(view.id)})


def keyboard(group_id: int) -> list[list[dict[str, str]]]:
    def button(label: str, action: AlertAct) -> dict[str, str]:
        return message.key(label, callback_data(group_id, action))

    return [
        [button(gettext("Acknowledge"), "ack"), button(gettext("Escalate"), "esc")],
        [
            button(gettext("Silence 1h"), "s1"),
            button(gettext("Silence 4h"), "s4"),
            button(gettext("Silence 24h"), "s24"),
        ],
        [button(gettext("Resolve"), "res")],
    ]


def render_plain(view: GroupView, tz: tzinfo) -> tuple[str, str]:
    """(subject, body) without markup, for email, Slack and SMS."""
    import html
    import re

    rendered = render_group(view, tz)
    body = html.unescape(re.sub(r"<[^>]+>", "", rendered.text))
    subject = body.splitlines()[0] if body else view.alertname
    return subject, body


def render_maintenance_summary(
    reason: str, started: datetime, ended: datetime, muted: Sequence[MutedAlert], tz: tzinfo
) -> str:
    head = gettext("Maintenance window {start} – {end} is over.").format(
        start=when(started, tz), end=when(ended, tz)
    )
    lines = ["🛠 <b>" + head + "</b>"]
    if reason:
        lines.append(gettext("Reason: {reason}").format(reason=esc(shorten(reason, 300))))
    if not muted:
        lines.append(gettext("No alert was muted during it."))
        return "\n".join(lines)
    lines.append(
        ngettext(
            "{count} alert was muted during it:",
            "{count} alerts were muted during it:",
            len(muted),
        ).format(count=len(muted))
    )

    def muted_lines() -> Iterator[str]:
        for item in muted:
            labels = ", ".join(
                f"{k}={v}" for k, v in sorted(item.labels.items()) if k not in HIDDEN_LABELS
            )
            yield "• " + gettext("{name} ({labels}) from {time}, now {state}").format(
                name=esc(item.alertname),
                labels=esc(shorten(labels, 200)),
                time=when(item.first_at, tz),
                state=gettext(STATE_NAMES.get(item.state, item.state)),
            )

    _fit(lines, muted_lines(), len(muted))
    return "\n".join(lines)


def _fit(lines: list[str], more: Iterator[str], count: int) -> None:
    """Add the `count` lines of `more` while the message stays within TEXT_BUDGET; the ones
    that do not fit are one line that sends the reader to /alerts."""
    used = sum(len(line) + 1 for line in lines)
    for shown, line in enumerate(more):
        if used + len(line) + 1 > TEXT_BUDGET:
            rest = count - shown
            lines.append(
                ngettext(
                    "…and {count} more alert: /alerts", "…and {count} more alerts: /alerts", rest
                ).format(count=rest)
            )
            return
        lines.append(line)
        used += len(line) + 1
