"""The storm message, rendered exactly: compact lines, escaping, the pointer when too many."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.alerts.render_storm import StormLine, StormView, render_storm
from services.i18n import use_locale

TZ = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_lines_by_severity_then_size_escaped_with_buttons() -> None:
    view = StormView(
        7,
        T0,
        [
            StormLine(11, "Disk<Full>", "warning", 3, {"alertname": "x", "instance": "db&1"}),
            StormLine(12, "Payments", "critical", 1, {"instance": "api-1", "severity": "crit"}),
            StormLine(13, "Gone", "warning", 0, {}, resolved=True),
            StormLine(14, "Cpu", "warning", 5, {"instance": "web-1"}, acknowledged=True),
        ],
    )
    with use_locale("en"):
        rendered = render_storm(view, TZ)
    assert rendered.text == "\n".join(
        [
            "🌩 <b>Alert storm</b>",
            "4 alert groups, 9 alerts firing, since 2026-11-02 08:00",
            "🔴 <b>Payments</b> ×1 instance=api-1",
            "🟠 <b>Cpu</b> ×5 👤 instance=web-1",
            "🟠 <b>Disk&lt;Full&gt;</b> ×3 instance=db&amp;1",
            "✅ <s>Gone</s>",
            "One message for all: Telegram would hold back one message each.",
        ]
    )
    buttons = rendered.reply_markup["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in buttons] == [
        ["st:7:det:12", "st:7:det:14"],
        ["st:7:det:11"],
        ["st:7:ack:0"],
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for row in buttons for b in row)


def test_a_hundred_groups_fit_one_message_three_hundred_end_with_a_pointer() -> None:
    def view(n: int) -> StormView:
        labels = {"instance": "host-" + "9" * 60, "job": "quickcart"}
        return StormView(
            1, T0, [StormLine(i, f"Bench{i}", "warning", 100, labels) for i in range(n)]
        )

    with use_locale("en"):
        hundred = render_storm(view(100), TZ).text
        many = render_storm(view(300), TZ).text
    assert len(hundred) <= 4096 and all(f"<b>Bench{i}</b> ×100" in hundred for i in range(100))
    assert len(many) <= 4096
    shown = sum(1 for i in range(300) if f"<b>Bench{i}</b> ×100" in many)
    assert f"…and {300 - shown} more groups: /alerts" in many


def test_an_ended_storm_has_no_buttons() -> None:
    view = StormView(1, T0, [StormLine(1, "Disk", "warning", 0, {}, resolved=True)])
    with use_locale("en"):
        rendered = render_storm(view, TZ)
    assert rendered.text.splitlines()[0] == "✅ <b>Alert storm over</b>"
    assert rendered.reply_markup == {"inline_keyboard": []}
