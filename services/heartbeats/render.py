"""Pure renderers for `/heartbeats` (the list) and `/heartbeat <name>` (one check), HTML with
every foreign string escaped; times in TIMEZONE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from services.alerts.durations import format_duration
from services.heartbeats.model import Heartbeat, shown_status
from services.heartbeats.store import LoggedPing
from services.i18n import N_, gettext, ngettext
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten

MARKS = {"new": "⚪", "up": "🟢", "late": "🟡", "down": "🔴", "paused": "⏸", "started": "▶️"}
STATUS_NAMES = {
    "new": N_("new, no ping yet"),
    "up": N_("up"),
    "late": N_("late"),
    "down": N_("down"),
    "paused": N_("paused"),
    "started": N_("running"),
}
KIND_NAMES = {"success": N_("success"), "start": N_("start"), "fail": N_("fail")}
LOG_SHOWN = 1500
LIST_BUDGET = TELEGRAM_TEXT_LIMIT - 200  # characters of the newest body shown


def when(at: datetime | None, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def span(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    return format_duration(timedelta(seconds=round(seconds)))


def schedule_of(hb: Heartbeat) -> str:
    if hb.kind == "cron":
        return gettext("cron {schedule} ({tz}), grace {grace}").format(
            schedule=f"<code>{esc(hb.schedule)}</code>", tz=esc(hb.tz), grace=span(hb.grace)
        )
    return gettext("every {period}, grace {grace}").format(
        period=span(hb.period), grace=span(hb.grace)
    )


def status_text(hb: Heartbeat, now: datetime) -> str:
    shown = shown_status(hb, now)
    return f"{MARKS[shown]} {gettext(STATUS_NAMES[shown])}"


def render_list(items: Sequence[Heartbeat], now: datetime, tz: tzinfo) -> str:
    if not items:
        return esc(
            gettext(
                "No heartbeats yet. Add one with /heartbeat add <name> <period> <grace>, "
                "for example /heartbeat add nightly-backup 1d 1h."
            )
        )
    text = f"<b>{esc(gettext('Heartbeats'))}</b>"
    for shown, hb in enumerate(items):
        block = "\n".join(
            [
                "",
                f"{status_text(hb, now)} · <b>{esc(hb.name)}</b>",
                schedule_of(hb),
                gettext("Last ping: {time} · duration: {duration}").format(
                    time=when(hb.last_ping, tz), duration=span(hb.last_duration)
                ),
            ]
        )
        if len(text) + len(block) > LIST_BUDGET:  # one message: the rest are counted
            rest = len(items) - shown
            more = ngettext(
                "…and {count} more heartbeat (/heartbeat <name> shows one).",
                "…and {count} more heartbeats (/heartbeat <name> shows one).",
                rest,
            )
            return text + "\n\n" + esc(more.format(count=rest))
        text += "\n" + block
    return text


def render_one(
    hb: Heartbeat, pings: Sequence[LoggedPing], url: str, now: datetime, tz: tzinfo
) -> str:
    lines = [
        f"<b>{esc(hb.name)}</b> · {status_text(hb, now)}",
        schedule_of(hb),
        gettext("Ping URL (keep it secret): {url}").format(url=f"<code>{esc(url)}</code>"),
        gettext("Last ping: {time} · duration: {duration}").format(
            time=when(hb.last_ping, tz), duration=span(hb.last_duration)
        ),
        gettext("Pings: {count}, of which not logged (rate limit): {limited}").format(
            count=hb.n_pings, limited=hb.n_rate_limited
        ),
    ]
    if pings:
        lines.append("")
        lines.append(f"<b>{esc(gettext('Latest pings'))}</b>")
        for ping in pings:
            status = f" ({ping.exit_status})" if ping.exit_status is not None else ""
            kind = esc(gettext(KIND_NAMES.get(ping.kind, ping.kind)))
            lines.append(f"{when(ping.received_at, tz)} · {kind}{status}")
    if hb.last_body:
        lines.append("")
        lines.append(f"<b>{esc(gettext('Last log'))}</b>")
        lines.append(f"<pre>{esc(shorten(hb.last_body, LOG_SHOWN))}</pre>")
    return "\n".join(lines)
