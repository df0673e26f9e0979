"""/heartbeats and /heartbeat <name> as a person reads them (exact output, English)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.heartbeats.render import render_list, render_one
from services.heartbeats.store import LoggedPing
from services.i18n import use_locale
from tests.unit.heartbeats.build import heartbeat

TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # 03:30 WIB, Dec 2

BACKUP = heartbeat(
    name="nightly-backup",
    ping_key="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
    grace=timedelta(hours=1),
    tz="Asia/Jakarta",
    schedule="0 2 * * *",
    status="up",
    last_ping=datetime(2026, 11, 30, 19, 4, tzinfo=UTC),  # 02:04 WIB, Dec 1
    last_duration=timedelta(minutes=3, seconds=12),
    last_body="pg_dump: <ok> & done",
    n_pings=12,
    n_rate_limited=2,
)
CACHE = heartbeat(
    id=2,
    name="cache-cleanup",
    grace=timedelta(minutes=30),
    tz="Asia/Jakarta",
    period=timedelta(days=1),
)


def test_the_list_shows_status_schedule_last_ping_and_duration() -> None:
    with use_locale("en"):
        text = render_list([CACHE, BACKUP], NOW, TZ)
    assert text == (
        "<b>Heartbeats</b>\n"
        "\n"
        "⚪ new, no ping yet · <b>cache-cleanup</b>\n"
        "every 1d, grace 30m\n"
        "Last ping: — · duration: —\n"
        "\n"
        "🔴 down · <b>nightly-backup</b>\n"
        "cron <code>0 2 * * *</code> (Asia/Jakarta), grace 1h\n"
        "Last ping: 2026-12-01 02:04 · duration: 3m12s"
    )


def test_one_check_shows_its_url_pings_and_escaped_log() -> None:
    pings = [LoggedPing(BACKUP.last_ping, "success", 0, "", 20, None)]  # type: ignore[arg-type]
    with use_locale("en"):
        text = render_one(BACKUP, pings, "https://ops.example/ping/k", NOW, TZ)
    assert "Ping URL (keep it secret): <code>https://ops.example/ping/k</code>" in text
    assert "Pings: 12, of which not logged (rate limit): 2" in text
    assert "2026-12-01 02:04 · success (0)" in text
    assert "<pre>pg_dump: &lt;ok&gt; &amp; done</pre>" in text


def test_a_long_list_fits_one_message_and_counts_the_rest() -> None:
    many = [
        heartbeat(id=n, name=f"job-{n:03d}-" + "x" * 50, grace=timedelta(minutes=5))
        for n in range(200)
    ]
    with use_locale("en"):
        text = render_list(many, NOW, TZ)
    assert len(text) <= 4096
    assert "job-000-" in text
    shown = text.count("<b>job-")
    assert 0 < shown < 200
    assert text.endswith(f"…and {200 - shown} more heartbeats (/heartbeat &lt;name&gt; shows one).")
