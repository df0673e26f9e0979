"""Pure renderers for Telegram: the /health card, one probe in full, /backupstatus.

Each returns HTML text (every foreign string escaped) and a reply_markup dict, ready for a
handler's answer or an outbox payload. Callback data are packed strings equal to the
handlers' CallbackData factories (`hc:<name>`, `bs:<action>`), checked by a unit test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from services.backups.status import BackupStatus
from services.buttons import Button, Longest, button
from services.checks.model import CheckReport, CheckResult, Status
from services.checks.units import fmt_bytes, fmt_duration, fmt_value
from services.i18n import N_, gettext
from services.message import key
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten

MARKS = {Status.OK: "✅", Status.WARN: "⚠️", Status.CRIT: "🔴", Status.UNKNOWN: "❔"}
STATUS_WORDS = {
    Status.OK: N_("OK"),
    Status.WARN: N_("Warning"),
    Status.CRIT: N_("Critical"),
    Status.UNKNOWN: N_("Unknown"),
}
TITLES = {
    "system": N_("System"),
    "database": N_("Database"),
    "redis": N_("Redis"),
    "payment": N_("Payment"),
    "backups": N_("Backups"),
    "logs": N_("Logs"),
    "fraud": N_("Fraud"),
    "bot": N_("Bot"),
}
ALL = "all"
SUMMARY_LIMIT = 160


@dataclass(frozen=True)
class Rendered:
    text: str
    keyboard: dict[str, Any]

    def as_payload(self) -> dict[str, Any]:
        """sendMessage parameters for the outbox."""
        return {"text": self.text, "parse_mode": "HTML", "reply_markup": self.keyboard}


@button("hc")
@dataclass(frozen=True)
class HealthDetail(Button):
    """One check's detail (a check name), or the whole card ("all")."""

    name: Annotated[str, Longest(20)]


@button("bs")
@dataclass(frozen=True)
class BackupAction(Button):
    action: Literal["refresh"]


def health_callback(name: str) -> str:
    return HealthDetail(name).pack()


def backup_callback(action: Literal["refresh"]) -> str:
    return BackupAction(action).pack()


def title(name: str) -> str:
    return gettext(TITLES[name]) if name in TITLES else name


def _local(when: datetime, timezone: str) -> datetime:
    return when.astimezone(ZoneInfo(timezone))


def render_health_card(report: CheckReport, *, timezone: str) -> Rendered:
    when = _local(report.started_at, timezone).strftime("%H:%M")
    lines = [
        gettext("{mark} <b>QuickCart health</b> at {time}").format(
            mark=MARKS[report.status], time=esc(when)
        ),
        "",
    ]
    for result in report.results:
        lines.append(
            f"{MARKS[result.status]} <b>{esc(title(result.name))}</b>: "
            f"{esc(shorten(result.summary, SUMMARY_LIMIT))}"
        )
    slowest = max(report.results, key=lambda r: r.duration_s, default=None)
    lines.append("")
    if slowest is not None:
        lines.append(
            gettext("Checked in {total}; slowest: {name} ({slowest}).").format(
                total=esc(fmt_duration(report.duration_s)),
                name=esc(title(slowest.name)),
                slowest=esc(fmt_duration(slowest.duration_s)),
            )
        )
    buttons = [
        key(f"{MARKS[r.status]} {title(r.name)}", health_callback(r.name)) for r in report.results
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([key(gettext("🔄 Refresh"), health_callback(ALL))])
    return Rendered(_fit(lines, tail=[]), {"inline_keyboard": rows})


def render_check_detail(result: CheckResult, *, timezone: str) -> Rendered:
    head = [
        f"{MARKS[result.status]} <b>{esc(title(result.name))}</b>: "
        f"{esc(gettext(STATUS_WORDS[result.status]))}",
        esc(result.summary),
    ]
    body: list[str] = []
    if result.values:
        measured = gettext("Measured")
        body += ["", f"<b>{esc(measured)}</b>"]
        for value in result.values:
            target = f" ({esc(value.target)})" if value.target else ""
            body.append(f"• <code>{esc(value.key)}</code>{target}: {esc(fmt_value(value))}")
    if result.details:
        findings = gettext("Findings")
        body += ["", f"<b>{esc(findings)}</b>"]
        body += [f"• {esc(d.render())}" for d in result.details]
    tail = [""]
    if result.error:
        tail.append(gettext("Error: {error}").format(error=f"<code>{esc(result.error)}</code>"))
    tail.append(
        "<i>"
        + gettext("Checked at {time} in {duration}.").format(
            time=esc(_local(result.started_at, timezone).strftime("%Y-%m-%d %H:%M:%S")),
            duration=esc(fmt_duration(result.duration_s)),
        )
        + "</i>"
    )
    keyboard = {
        "inline_keyboard": [
            [
                key(gettext("🔄 Refresh"), health_callback(result.name)),
                key(gettext("⬅️ All checks"), health_callback(ALL)),
            ]
        ]
    }
    return Rendered(_fit(head + body, tail=tail, name=result.name), keyboard)


def _fit(lines: list[str], *, tail: list[str], name: str = "") -> str:
    """Join; when over Telegram's limit, drop lines from the end and say how to see them."""
    text = "\n".join(lines + tail)
    if len(text) <= TELEGRAM_TEXT_LIMIT:
        return text
    kept = list(lines)
    dropped = 0
    while kept:
        kept.pop()
        dropped += 1
        pointer = gettext(
            "… {count} more lines not shown; run quickcart-ops check {name} for all of them."
        ).format(count=dropped, name=esc(name or ""))
        text = "\n".join([*kept, pointer, *tail])
        if len(text) <= TELEGRAM_TEXT_LIMIT:
            return text
    return text[:TELEGRAM_TEXT_LIMIT]


VERDICTS = {
    "ok": N_("✅ checksum verified"),
    "missing": N_("⚠️ no .sha256 file"),
    "mismatch": N_("🔴 checksum mismatch"),
    "unreadable": N_("🔴 .sha256 unreadable"),
    "toc_unreadable": N_("🔴 pg_restore cannot read it"),
}


def render_backup_status(status: BackupStatus, *, now: datetime, timezone: str) -> Rendered:
    lines = [
        gettext("<b>Backups</b> in {path}").format(path=f"<code>{esc(status.directory)}</code>")
    ]
    if not status.exists:
        lines.append(gettext("This folder does not exist."))
    elif not status.lines:
        lines.append(gettext("There is no pg_dump archive here."))
    for number, line in enumerate(status.lines, start=1):
        archive = line.archive
        if line.verification is None:
            verdict = gettext("… not verified yet")
        else:
            verdict = gettext(VERDICTS.get(line.verification.verdict, line.verification.verdict))
        lines.append(
            gettext("{number}. {name}: {age} ago, {size}, {verdict}").format(
                number=number,
                name=f"<code>{esc(archive.name)}</code>",
                age=esc(fmt_duration(archive.age_s(now))),
                size=esc(fmt_bytes(archive.size)),
                verdict=esc(verdict),
            )
        )
    lines.append("")
    restore = status.last_restore
    if restore is None:
        lines.append(gettext("No restore test has run yet."))
    else:
        template = (
            gettext("Last restore test: {when} ({age} ago), passed.")
            if restore.ok
            else gettext("Last restore test: {when} ({age} ago), failed: {verdict}.")
        )
        lines.append(
            template.format(
                when=esc(_local(restore.at, timezone).strftime("%Y-%m-%d %H:%M")),
                age=esc(fmt_duration((now - restore.at).total_seconds())),
                verdict=esc(restore.verdict),
            )
        )
    if status.next_verification is not None:
        lines.append(
            gettext("Next verification: {when}.").format(
                when=esc(_local(status.next_verification, timezone).strftime("%Y-%m-%d %H:%M"))
            )
        )
    keyboard = {"inline_keyboard": [[key(gettext("🔄 Refresh"), backup_callback("refresh"))]]}
    return Rendered(_fit(lines, tail=[], name="backups"), keyboard)
