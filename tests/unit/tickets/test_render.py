"""Renderers against exact expected output: the card, the title, the lists, customer texts."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.classification import Category, Priority
from services.i18n import use_locale
from services.sla import Channel
from services.text import visible_length
from services.tickets import render, render_customer
from services.tickets.model import Ticket, TicketStatus, parse_ticket_number

JKT = ZoneInfo("Asia/Jakarta")
OPENED = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB


def ticket(**changes: object) -> Ticket:
    values: dict[str, object] = {
        "id": 123,
        "customer_id": 1001,
        "status": TicketStatus.OPEN,
        "priority": Priority.P1,
        "category": Category.PAYMENT,
        "channel": Channel.BOT,
        "subject": "Pembayaran QRIS gagal",
        "description": "Pembayaran QRIS gagal <b>&</b>",
        "order_ref": "INV2026110201",
        "language": "id",
        "assignee_id": None,
        "support_chat_id": -100123,
        "topic_id": 77,
        "topic_outbox_id": 1,
        "card_outbox_id": 2,
        "card_message_id": 900,
        "customer_blocked_at": None,
        "created_at": OPENED,
        "updated_at": OPENED,
        "first_response_at": None,
        "response_due": OPENED + timedelta(hours=1),
        "resolution_due": OPENED + timedelta(hours=24),
        "resolved_at": None,
        "closed_at": None,
        "rating": None,
        "customer_name": "Budi Santoso",
        "customer_username": "budi",
    }
    values.update(changes)
    return Ticket(**values)  # type: ignore[arg-type]


def test_the_topic_title_names_status_number_priority_and_customer() -> None:
    assert render.topic_title(ticket()) == "🆕 QC-000123 · P1 · Budi Santoso"
    resolved = ticket(status=TicketStatus.RESOLVED, priority=Priority.P0)
    assert render.topic_title(resolved) == "✅ QC-000123 · P0 · Budi Santoso"


def test_a_long_name_is_shortened_to_fit_128_characters() -> None:
    title = render.topic_title(ticket(customer_name="Budi " * 60))
    assert len(title) == 128
    assert title.endswith("…")


def test_the_card_in_english_exactly() -> None:
    now = OPENED + timedelta(minutes=15)
    with use_locale("en"):
        text, markup = render.card(ticket(), now, JKT)
    assert text == (
        "<b>QC-000123</b> · 🟠 P1 High · 🆕 open\n"
        "\n"
        "Customer: Budi Santoso @budi (id <code>1001</code>, language id)\n"
        "Category: Payment\n"
        "Order reference: <code>INV2026110201</code>\n"
        "Response due: 2026-11-02 11:00 WIB · 45 min left\n"
        "Resolution due: 2026-11-03 10:00 WIB · 23 h 45 min left\n"
        "Assignee: —\n"
        "\n"
        "<blockquote>Pembayaran QRIS gagal &lt;b&gt;&amp;&lt;/b&gt;</blockquote>"
    )
    assert markup == {
        "inline_keyboard": [
            [
                {"text": "👀 Acknowledge", "callback_data": "tk:123:ack"},
                {"text": "Priority ▾", "callback_data": "tk:123:pri"},
            ],
            [
                {"text": "⬆️ Escalate", "callback_data": "tk:123:esc"},
                {"text": "✅ Resolve", "callback_data": "tk:123:res"},
            ],
        ]
    }


def test_the_card_shows_met_and_missed_clocks_and_drops_buttons_when_resolved() -> None:
    done = ticket(
        status=TicketStatus.RESOLVED,
        first_response_at=OPENED + timedelta(minutes=70),
        resolved_at=OPENED + timedelta(hours=2),
        assignee_name="Rina",
        rating=5,
    )
    with use_locale("en"):
        text, markup = render.card(done, OPENED + timedelta(hours=3), JKT)
    assert "Response due: 2026-11-02 11:00 WIB · missed, done at 2026-11-02 11:10 WIB" in text
    assert "Resolution due: 2026-11-03 10:00 WIB · met at 2026-11-02 12:00 WIB" in text
    assert "Assignee: Rina" in text
    assert "Rating: ⭐⭐⭐⭐⭐" in text
    assert markup == {"inline_keyboard": []}


def test_the_card_in_bahasa_indonesia() -> None:
    with use_locale("id"):
        text, _ = render.card(ticket(), OPENED + timedelta(hours=2), JKT)
    assert "Batas respons: 2026-11-02 11:00 WIB · ⚠️ terlambat 1 j 00 mnt" in text
    assert "Kategori: Pembayaran" in text


def test_the_staff_list_orders_what_it_is_given_and_flags_overdue() -> None:
    now = OPENED + timedelta(minutes=90)
    tickets = [ticket(), ticket(id=124, priority=Priority.P2, assignee_name="Rina <3")]
    with use_locale("en"):
        text = render.ticket_list(tickets, now, title="Open tickets")
    assert text == (
        "<b>Open tickets</b>\n"
        "🟠 <b>QC-000123</b> P1 · Budi Santoso · Pembayaran QRIS gagal"
        " · ⚠️ response overdue by 30 min\n"
        "🟡 <b>QC-000124</b> P2 · Budi Santoso · Pembayaran QRIS gagal"
        " · ⚠️ response overdue by 30 min · Rina &lt;3"
    )
    with use_locale("en"):
        assert render.ticket_list([], now, title="Breached") == "<b>Breached</b>\nNothing here."


def test_customer_text_reaches_the_topic_escaped_and_whole() -> None:
    raw = "<&><b>" + "x" * 500
    [text] = render.customer_message_in_topic(ticket(), raw)
    assert text.startswith("💬 <b>Budi Santoso</b>:\n&lt;&amp;&gt;&lt;b&gt;xxx")
    assert visible_length(text) == len("💬 Budi Santoso:\n") + len(raw) + 1  # 💬 is 2 units


def test_a_long_customer_text_arrives_in_parts_each_labelled_none_empty() -> None:
    words = "<&><b> " + "kata & <i>tag</i> " * 300  # over 5,000 characters
    parts = render.customer_message_in_topic(ticket(), words)
    assert len(parts) == 2
    assert parts[0].startswith("💬 <b>Budi Santoso</b> (1/2):\n&lt;&amp;&gt;&lt;b&gt; kata")
    assert parts[1].startswith("💬 <b>Budi Santoso</b> (2/2):\nkata")
    assert all(visible_length(p) <= 4096 for p in parts)
    bodies = [html.unescape(p.split(":\n", 1)[1]) for p in parts]
    assert "".join(bodies) == words  # cut at a space, nothing lost, nothing added


def test_the_customer_is_told_the_number_priority_and_promise_in_their_language() -> None:
    with use_locale("id"):
        text = render_customer.ticket_created(ticket(), 60)
    assert text.startswith("Tiket Anda <b>QC-000123</b> sudah dibuka. Prioritas: P1 (Tinggi).")
    assert "dalam 1 jam" in text
    with use_locale("en"):
        assert "within 2 hours" in render_customer.ticket_created(ticket(), 120)
        assert render_customer.promise(15) == "within 15 minutes"
        assert render_customer.promise(0) == "right away"


def test_a_staff_reply_is_signed_with_the_first_name() -> None:
    with use_locale("en"):
        text = render_customer.staff_reply("Please send <proof>", "Rina")
    assert text == "Please send &lt;proof&gt;\n\n— <i>Rina</i>, QuickCart Support"


def test_the_resolved_message_asks_for_one_to_five_stars() -> None:
    with use_locale("en"):
        text, markup = render_customer.resolved(ticket(), 7)
    assert "within 7 days" in text
    assert [b["callback_data"] for b in markup["inline_keyboard"][0]] == [
        "tr:123:1",
        "tr:123:2",
        "tr:123:3",
        "tr:123:4",
        "tr:123:5",
    ]


def test_my_tickets_lists_status_and_age() -> None:
    with use_locale("en"):
        text, markup = render_customer.my_tickets([ticket()], OPENED + timedelta(hours=26))
    assert text == (
        "<b>Your tickets</b>\n"
        "<b>QC-000123</b> · 🆕 open · Pembayaran QRIS gagal · opened 1 d 2 h ago"
    )
    assert markup == {"inline_keyboard": [[{"text": "QC-000123", "callback_data": "tc:123:view"}]]}


def test_the_customer_ticket_card_offers_close_until_closed() -> None:
    with use_locale("en"):
        text, markup = render_customer.ticket_card(ticket(), {"in": 2, "out": 1}, OPENED, JKT)
    assert "Messages: 2 from you, 1 from our team" in text
    assert markup["inline_keyboard"] == [
        [{"text": "Close ticket", "callback_data": "tc:123:close"}]
    ]
    closed = ticket(status=TicketStatus.CLOSED)
    with use_locale("en"):
        assert render_customer.ticket_card(closed, {}, OPENED, JKT)[1] == {"inline_keyboard": []}


def test_ticket_numbers_parse_in_every_shape_people_type() -> None:
    for typed in ("QC-000123", "qc123", "#123", "123", " QC-123 "):
        assert parse_ticket_number(typed) == 123
    assert parse_ticket_number("QC-") is None
    assert parse_ticket_number("ORD-1") is None


def test_callback_strings_stay_under_64_bytes() -> None:
    big = 10**12
    for data in (
        render.TicketAction(big, "back").pack(),
        render.TicketPriority(big, Priority.P0).pack(),
        render.Rate(big, 5).pack(),
        render.Mine(big, "close").pack(),
    ):
        assert len(data.encode()) < 64
