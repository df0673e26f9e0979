"""The alert group message, rendered for people: exact text, escaping, buttons, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from services.alerts.config import default_rules
from services.alerts.model import AlertRow
from services.alerts.render import (
    ACTIONS,
    AlertAction,
    GroupView,
    callback_data,
    render_group,
    render_maintenance_summary,
    render_plain,
)
from services.alerts.silences import MutedAlert
from services.i18n import LANGUAGES, LOCALES_DIR, use_locale
from services.text import TELEGRAM_TEXT_LIMIT, visible_length

TZ = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 08:00 in Jakarta


def alert(n: int, state: str = "firing", **labels: str) -> AlertRow:
    return AlertRow(
        id=n,
        fingerprint=f"fp{n:04d}",
        source="rule",
        alertname="CpuHigh",
        labels={"alertname": "CpuHigh", "severity": "warning", "instance": f"web-{n}", **labels},
        annotations={"summary": "CPU usage above 80 % for 5 minutes", "unit": "%"},
        severity="warning",
        state=state,
        value=93.25,
        threshold=80,
        comparison=">",
        fired_at=T0,
        resolved_at=T0 + timedelta(minutes=30) if state == "resolved" else None,
        runbook_url="https://runbooks.example/cpu?a=1&b=2",
    )


def view(*alerts: AlertRow, **more: object) -> GroupView:
    return GroupView(id=7, alertname="CpuHigh", severity="warning", alerts=alerts, **more)  # type: ignore[arg-type]


def test_a_firing_group_shows_what_value_threshold_since_labels_and_runbook() -> None:
    with use_locale("en"):
        rendered = render_group(view(alert(1), alert(2)), TZ)
    assert rendered.text == (
        "🟠 <b>Firing: CpuHigh</b> · warning\n"
        "CPU usage above 80 % for 5 minutes\n"
        "• <code>instance=web-1</code>: 93.25% (threshold &gt; 80%), since 2026-11-02 08:00\n"
        "• <code>instance=web-2</code>: 93.25% (threshold &gt; 80%), since 2026-11-02 08:00\n"
        '📖 <a href="https://runbooks.example/cpu?a=1&amp;b=2">Runbook</a>'
    )
    assert rendered.reply_markup["inline_keyboard"][0][0] == {
        "text": "Acknowledge",
        "callback_data": "al:7:ack",
    }


def test_it_is_rendered_in_bahasa_indonesia_too_with_the_words_ops_people_say() -> None:
    with use_locale("id"):
        rendered = render_group(view(alert(1)), TZ)
    head = rendered.text.splitlines()[0]
    assert "Firing: " in head and "· warning" in head and "Menyala" not in head  # the term of art
    assert "(ambang &gt; 80%), sejak" in rendered.text
    assert rendered.reply_markup["inline_keyboard"][0][0]["text"] == "Ack"


def test_a_default_rules_summary_is_shown_in_the_chats_language() -> None:
    with use_locale("id"):
        indonesian = render_group(view(alert(1)), TZ).text
    with use_locale("en"):
        english = render_group(view(alert(1)), TZ).text
    assert "Pemakaian CPU di atas 80 % selama 5 menit" in indonesian
    assert "CPU usage above 80 % for 5 minutes" in english


def test_every_default_rules_summary_is_in_both_catalogues() -> None:
    for language in LANGUAGES:
        path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as source:
            translated = {m.id for m in read_po(source) if m.id and m.string}
        missing = [r.summary for r in default_rules() if r.summary not in translated]
        assert not missing, (language, missing)


def test_acknowledged_silenced_escalated_are_shown_with_who_and_when() -> None:
    with use_locale("en"):
        rendered = render_group(
            view(
                alert(1),
                acknowledged_name="@budi",
                acknowledged_at=T0 + timedelta(minutes=5),
                silenced_until=T0 + timedelta(hours=1),
                silenced_name="Siti <admin>",
                incident_id=12,
            ),
            TZ,
        )
    assert rendered.text.splitlines()[-3:] == [
        "👤 Acknowledged by @budi at 2026-11-02 08:05",
        "🔕 Silenced until 2026-11-02 09:00 by Siti &lt;admin&gt;",
        "🆘 Escalated: incident QC-000012",
    ]


def test_the_last_edit_says_resolved_and_drops_the_buttons() -> None:
    with use_locale("en"):
        rendered = render_group(view(alert(1, "resolved")), TZ)
    assert rendered.text.splitlines()[0] == "✅ <b>Resolved: CpuHigh</b>"
    assert "✅ <code>instance=web-1</code>: resolved at 2026-11-02 08:30" in rendered.text
    assert rendered.reply_markup == {"inline_keyboard": []}


def test_foreign_label_text_is_escaped() -> None:
    evil = alert(1, note="<b>boom</b> & co")
    with use_locale("en"):
        text = render_group(view(evil), TZ).text
    assert "<b>boom</b>" not in text
    assert "&lt;b&gt;boom&lt;/b&gt; &amp; co" in text


def test_a_huge_group_is_trimmed_with_a_pointer_not_dropped() -> None:
    many = [alert(n, blob="x" * 150) for n in range(200)]
    with use_locale("en"):
        text = render_group(view(*many), TZ).text
    assert visible_length(text) <= TELEGRAM_TEXT_LIMIT
    assert "more alerts: /alerts" in text.splitlines()[-2]


def test_callback_data_is_the_handlers_factory_string_and_short() -> None:
    for act in ACTIONS:
        packed = AlertAction(g=2**40, a=act).pack()  # type: ignore[arg-type]
        assert packed == callback_data(2**40, act)
        assert len(packed.encode()) < 64


def test_plain_text_for_secondary_channels_has_no_markup() -> None:
    with use_locale("en"):
        subject, body = render_plain(view(alert(1, note="a<b")), TZ)
    assert subject == "🟠 Firing: CpuHigh · warning"
    assert "<code>" not in body and "a<b" in body


def test_maintenance_summary_lists_what_was_muted() -> None:
    muted = [
        MutedAlert(
            "CpuHigh", {"instance": "web-1", "severity": "warning"}, "warning", T0, "resolved"
        )
    ]
    with use_locale("en"):
        text = render_maintenance_summary("db upgrade", T0, T0 + timedelta(hours=1), muted, TZ)
    assert text == (
        "🛠 <b>Maintenance window 2026-11-02 08:00 – 2026-11-02 09:00 is over.</b>\n"
        "Reason: db upgrade\n"
        "1 alert was muted during it:\n"
        "• CpuHigh (instance=web-1) from 2026-11-02 08:00, now resolved"
    )


def test_a_long_maintenance_summary_stops_within_telegrams_limit_and_counts_the_rest() -> None:
    muted = [
        MutedAlert("CpuHigh", {"instance": f"web-{n}"}, "warning", T0, "firing") for n in range(400)
    ]
    with use_locale("en"):
        text = render_maintenance_summary("db upgrade", T0, T0 + timedelta(hours=1), muted, TZ)
    lines = text.splitlines()
    listed = [line for line in lines if line.startswith("• ")]
    assert 10 < len(listed) < 400 and listed[-1].startswith("• CpuHigh (instance=web-")
    assert lines[-1] == f"…and {400 - len(listed)} more alerts: /alerts"
    assert len(text) <= TELEGRAM_TEXT_LIMIT
