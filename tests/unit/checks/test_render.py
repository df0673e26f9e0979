"""The /health card, one probe in full and /backupstatus, rendered exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.backups.archives import Archive, ArchiveFormat
from services.backups.status import BackupLine, BackupStatus
from services.backups.store import Verification
from services.checks.model import CheckReport, CheckResult, Sentence, Status, Unit, Value
from services.checks.render import (
    backup_callback,
    health_callback,
    render_backup_status,
    render_check_detail,
    render_health_card,
)
from services.i18n import use_locale
from services.text import TELEGRAM_TEXT_LIMIT

AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 08:00 in Jakarta


def result(name, status, msgid, values=(), details=(), took=0.25, **params):
    return CheckResult(
        name, status, Sentence(msgid, params), tuple(values), tuple(details), AT, took
    )


REPORT = CheckReport(
    AT,
    1.5,
    (
        result(
            "system",
            Status.OK,
            "CPU {cpu}, memory {memory}, fullest disk {disk}.",
            cpu="3.0 %",
            memory="41.0 %",
            disk="62.0 %",
        ),
        result(
            "database",
            Status.WARN,
            "PID {pid} ({user}) has been running a query for {duration}: {query}",
            values=[
                Value("long_queries", 1, Unit.COUNT),
                Value("size_bytes", 3 * 1024**2, Unit.BYTES),
            ],
            details=[
                Sentence(
                    "Table {table} needs VACUUM: {dead} dead rows ({share}).",
                    {"table": "public.carts", "dead": 4000, "share": "80.0 %"},
                )
            ],
            took=1.2,
            pid=42,
            user="shop",
            duration="3 min",
            query="SELECT * FROM orders WHERE note < 'x'",
        ),
    ),
)


def test_the_health_card_has_a_line_per_probe_and_a_button_each():
    with use_locale("en"):
        rendered = render_health_card(REPORT, timezone="Asia/Jakarta")
    assert rendered.text == (
        "⚠️ <b>QuickCart health</b> at 08:00\n"
        "\n"
        "✅ <b>System</b>: CPU 3.0 %, memory 41.0 %, fullest disk 62.0 %.\n"
        "⚠️ <b>Database</b>: PID 42 (shop) has been running a query for 3 min: "
        "SELECT * FROM orders WHERE note &lt; 'x'\n"
        "\n"
        "Checked in 1.5 s; slowest: Database (1.2 s)."
    )
    assert rendered.keyboard == {
        "inline_keyboard": [
            [
                {"text": "✅ System", "callback_data": "hc:system"},
                {"text": "⚠️ Database", "callback_data": "hc:database"},
            ],
            [{"text": "🔄 Refresh", "callback_data": "hc:all"}],
        ]
    }


def test_the_card_speaks_indonesian():
    with use_locale("id"):
        rendered = render_health_card(REPORT, timezone="Asia/Jakarta")
    assert rendered.text.startswith("⚠️ <b>Kesehatan QuickCart</b> pukul 08:00")
    assert "✅ <b>Sistem</b>: CPU 3.0 %, memori 41.0 %, disk terpenuh 62.0 %." in rendered.text


def test_one_probe_in_full():
    with use_locale("en"):
        rendered = render_check_detail(REPORT.results[1], timezone="Asia/Jakarta")
    assert rendered.text == (
        "⚠️ <b>Database</b>: Warning\n"
        "PID 42 (shop) has been running a query for 3 min: "
        "SELECT * FROM orders WHERE note &lt; 'x'\n"
        "\n"
        "<b>Measured</b>\n"
        "• <code>long_queries</code>: 1\n"
        "• <code>size_bytes</code>: 3.0 MiB\n"
        "\n"
        "<b>Findings</b>\n"
        "• Table public.carts needs VACUUM: 4000 dead rows (80.0 %).\n"
        "\n"
        "<i>Checked at 2026-11-02 08:00:00 in 1.2 s.</i>"
    )
    assert rendered.keyboard["inline_keyboard"][0][1]["callback_data"] == "hc:all"


def test_a_detail_too_long_for_telegram_is_trimmed_with_a_pointer():
    many = [Sentence("{count}× {message}", {"count": i, "message": "x" * 200}) for i in range(60)]
    huge = result("logs", Status.WARN, "Cache hit ratio is {ratio}.", details=many, ratio="1 %")
    with use_locale("en"):
        text = render_check_detail(huge, timezone="UTC").text
    assert len(text) <= TELEGRAM_TEXT_LIMIT
    assert "more lines not shown; run quickcart-ops check logs for all of them." in text
    assert text.endswith("</i>")


def test_backup_status_lists_archives_the_restore_test_and_the_next_run():
    def archive(name, hours, size):
        return Archive(
            Path("/backups") / name, size, AT - timedelta(hours=hours), ArchiveFormat.CUSTOM, None
        )

    def checked(verdict):
        return Verification(AT, "checksum", "x", verdict == "ok", verdict, {}, 0.1)

    status = BackupStatus(
        Path("/backups"),
        True,
        (
            BackupLine(archive("qc-<new>.dump", 5, 2 * 1024**3), checked("ok")),
            BackupLine(archive("qc-old.dump", 29, 1024**2), checked("mismatch")),
            BackupLine(archive("qc-older.dump", 53, 1024), None),
        ),
        Verification(
            AT - timedelta(days=2), "restore_test", "x", False, "relation missing", {}, 9.0
        ),
        AT + timedelta(hours=23, minutes=30),
    )
    with use_locale("en"):
        rendered = render_backup_status(status, now=AT, timezone="Asia/Jakarta")
    assert rendered.text == (
        "<b>Backups</b> in <code>/backups</code>\n"
        "1. <code>qc-&lt;new&gt;.dump</code>: 5.0 h ago, 2.0 GiB, ✅ checksum verified\n"
        "2. <code>qc-old.dump</code>: 29.0 h ago, 1.0 MiB, 🔴 checksum mismatch\n"
        "3. <code>qc-older.dump</code>: 2.2 d ago, 1.0 KiB, … not verified yet\n"
        "\n"
        "Last restore test: 2026-10-31 08:00 (2.0 d ago), failed: relation missing.\n"
        "Next verification: 2026-11-03 07:30."
    )
    assert rendered.keyboard == {
        "inline_keyboard": [[{"text": "🔄 Refresh", "callback_data": "bs:refresh"}]]
    }


@pytest.mark.parametrize("name", ["system", "database", "all", "backups"])
def test_service_callback_strings_equal_the_handler_factories(name):
    from services.checks.render import BackupAction, HealthDetail

    assert health_callback(name) == HealthDetail(name=name).pack()
    assert backup_callback("refresh") == BackupAction(action="refresh").pack()
    assert len(health_callback(name).encode()) < 64
