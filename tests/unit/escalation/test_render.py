"""Renderers are pure: exact text and keyboard for a given incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.escalation.render import (
    IncidentAction,
    IncidentRow,
    IncidentView,
    Mention,
    TimelineLine,
    TimelinePage,
    callback_data,
    render_incident,
    render_incident_list,
    render_timeline,
)
from services.i18n import use_locale
from services.text import TELEGRAM_TEXT_LIMIT

JAKARTA = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 08:00 in Jakarta

VIEW = IncidentView(
    ticket_id=42,
    number="QC-000042",
    title="Payment <QRIS> down",
    priority="P0",
    level=2,
    top_level=5,
    level_role="senior_engineer",
    opened_at=T0,
    level_entered_at=T0 + timedelta(minutes=60),
    topic_url="https://t.me/c/12345/77",
    level_deadline=T0 + timedelta(minutes=180),
)


def test_a_page_has_the_three_buttons_and_the_topic_link() -> None:
    with use_locale("en"):
        rendered = render_incident(VIEW, JAKARTA, variant="page")
    assert rendered.text == (
        "🔴 <b>P0 incident QC-000042 needs you</b>\n"
        "Payment &lt;QRIS&gt; down\n"
        "Level 2 of 5: Senior Engineer\n"
        "Opened 2026-11-02 08:00\n"
        "At this level since 2026-11-02 09:00\n"
        "Escalates to the next level at 2026-11-02 11:00 unless resolved"
    )
    assert rendered.reply_markup == {
        "inline_keyboard": [
            [
                {"text": "Acknowledge", "callback_data": "inc:42:ack:2"},
                {"text": "Escalate ↑", "callback_data": "inc:42:esc:2"},
                {"text": "Resolve", "callback_data": "inc:42:res:2"},
            ],
            [{"text": "Open ticket QC-000042", "url": "https://t.me/c/12345/77"}],
        ]
    }


def test_a_group_notice_names_the_groups_and_mentions_their_people() -> None:
    with use_locale("en"):
        rendered = render_incident(
            VIEW,
            JAKARTA,
            variant="notice",
            told=["all_admins", "security_team"],
            mentions=[Mention(7001, "Rina <admin>")],
        )
    assert rendered.text.splitlines()[0] == "🔴 <b>P0 incident QC-000042</b>"
    assert rendered.text.splitlines()[-2:] == [
        "Notified: all admins, security team",
        '<a href="tg://user?id=7001">Rina &lt;admin&gt;</a>',
    ]


def test_acknowledged_drops_the_acknowledge_button_and_says_who() -> None:
    view = VIEW.__class__(
        **{**VIEW.__dict__, "acknowledged_by": "Dewi", "acknowledged_at": T0 + timedelta(minutes=5)}
    )
    with use_locale("en"):
        rendered = render_incident(view, JAKARTA)
    assert "Acknowledged by Dewi at 2026-11-02 08:05" in rendered.text.splitlines()
    assert rendered.reply_markup is not None
    assert [b["text"] for b in rendered.reply_markup["inline_keyboard"][0]] == [
        "Escalate ↑",
        "Resolve",
    ]


def test_resolved_keeps_only_the_link_and_the_top_level_cannot_escalate() -> None:
    top = VIEW.__class__(
        **{**VIEW.__dict__, "level": 5, "level_role": "cto", "level_deadline": None}
    )
    with use_locale("en"):
        assert [
            b["text"] for b in render_incident(top, JAKARTA).reply_markup["inline_keyboard"][0]
        ] == [  # type: ignore[index]
            "Acknowledge",
            "Resolve",
        ]
        done = VIEW.__class__(
            **{**VIEW.__dict__, "resolved_by": "Dewi", "resolved_at": T0 + timedelta(hours=2)}
        )
        rendered = render_incident(done, JAKARTA)
    assert rendered.text.splitlines()[0] == "✅ <b>P0 incident QC-000042 is resolved</b>"
    assert rendered.text.splitlines()[-1] == "Resolved by Dewi at 2026-11-02 10:00"
    assert rendered.reply_markup == {
        "inline_keyboard": [[{"text": "Open ticket QC-000042", "url": "https://t.me/c/12345/77"}]]
    }


def test_indonesian_page() -> None:
    with use_locale("id"):
        rendered = render_incident(VIEW, JAKARTA, variant="page")
    assert rendered.text.splitlines()[2] == "Level 2 dari 5: Senior Engineer"
    assert rendered.reply_markup is not None
    assert rendered.reply_markup["inline_keyboard"][0][0]["text"] == "Ack"


def test_callback_data_is_short() -> None:
    assert len(callback_data(10**12, "res", 5).encode()) < 64


def test_incident_list_shows_level_owner_and_time_left() -> None:
    with use_locale("en"):
        text = render_incident_list(
            [IncidentRow(VIEW, owner=None), IncidentRow(VIEW, owner="Dewi")],
            T0 + timedelta(minutes=150),
        )
    assert text == (
        "<b>Open incidents</b>\n"
        "🔴 P0 QC-000042: level 2 (Senior Engineer), owner nobody yet, 30 minutes left\n"
        "    Payment &lt;QRIS&gt; down\n"
        "🔴 P0 QC-000042: level 2 (Senior Engineer), owner Dewi, 30 minutes left\n"
        "    Payment &lt;QRIS&gt; down"
    )
    with use_locale("en"):
        assert render_incident_list([], T0) == "No open incidents."


def test_timeline_in_the_configured_zone_and_never_over_the_limit() -> None:
    page = TimelinePage(
        "QC-000042",
        "Payment down",
        [
            TimelineLine(T0, "Created by Budi"),
            TimelineLine(T0 + timedelta(minutes=60), "Escalated <2>"),
        ],
    )
    with use_locale("en"):
        assert render_timeline(page, JAKARTA, "Asia/Jakarta") == (
            "<b>Timeline of QC-000042</b> (Asia/Jakarta)\n"
            "Payment down\n"
            "<code>2026-11-02 08:00</code> Created by Budi\n"
            "<code>2026-11-02 09:00</code> Escalated &lt;2&gt;"
        )
        long = TimelinePage("QC-1", "t", [TimelineLine(T0, "x" * 100)] * 200)
        text = render_timeline(long, JAKARTA, "Asia/Jakarta")
    assert len(text) <= TELEGRAM_TEXT_LIMIT
    assert text.endswith("more lines (see the ticket's topic).")


def test_an_incident_not_yet_customer_facing_offers_the_button_until_it_is_resolved() -> None:
    offering = replace(VIEW, public_offer=True)
    with use_locale("en"):
        rows = render_incident(offering, JAKARTA).reply_markup["inline_keyboard"]
        done = render_incident(
            replace(offering, resolved_at=datetime(2026, 11, 2, 10, tzinfo=UTC)), JAKARTA
        ).reply_markup["inline_keyboard"]
    assert rows[1] == [{"text": "📢 Customer-facing", "callback_data": "inc:42:pub:2"}]
    assert "inc:42:pub:2" not in str(done)
    assert IncidentAction.parse("inc:42:pub:2") == IncidentAction(42, "pub", 2)
