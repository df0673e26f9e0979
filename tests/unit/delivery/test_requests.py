"""What Bot API calls an outbox row becomes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from services.delivery.config import DeliveryConfig
from services.delivery.digest_store import render_text
from services.delivery.requests import Target, build_calls, plain_text_calls
from services.delivery.rows import OutboxRow
from services.delivery.splitter import visible_units
from services.i18n import use_locale

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
KEYBOARD = {"inline_keyboard": [[{"text": "Ack", "callback_data": "a:ack:7"}]]}


def row(kind: str = "text", ref_id: int | None = None, **payload: Any) -> OutboxRow:
    return OutboxRow(
        id=42,
        chat_id=-100123,
        thread_id=None,
        thread_ref=None,
        ref_id=ref_id,
        kind=kind,
        payload=payload,
        dedup_key=None,
        owner=None,
        coalesce_key=None,
        priority=5,
        not_before=NOW,
        status="sending",
        attempts=1,
        message_id=None,
        result=None,
        last_error=None,
        created_at=NOW,
    )


def test_a_short_text_is_one_send_message_with_its_keyboard_and_topic() -> None:
    calls = build_calls(
        row(text="<b>hi</b>", parse_mode="HTML", reply_markup=KEYBOARD),
        Target(-100123, thread_id=9),
        DeliveryConfig(),
    )
    assert [(c.method, c.new_message) for c in calls] == [("sendMessage", True)]
    assert calls[0].params == {
        "chat_id": -100123,
        "message_thread_id": 9,
        "text": "<b>hi</b>",
        "parse_mode": "HTML",
        "reply_markup": KEYBOARD,
    }


def test_the_bots_own_payload_keys_never_reach_telegram() -> None:
    copy = {"language": "en", "text": "⏰ QC-000001 missed", "parse_mode": "HTML"}
    calls = build_calls(
        row(text="⏰ QC-000001 terlambat", parse_mode="HTML", _admin_copy=copy),
        Target(-100123),
        DeliveryConfig(),
    )
    assert calls[0].params == {
        "chat_id": -100123,
        "text": "⏰ QC-000001 terlambat",
        "parse_mode": "HTML",
    }


def test_a_long_text_becomes_parts_with_the_keyboard_on_the_last() -> None:
    text = "\n".join(f"<b>line {n}</b> " + "x" * 60 for n in range(150))
    calls = build_calls(
        row(text=text, parse_mode="HTML", reply_markup=KEYBOARD), Target(-100123), DeliveryConfig()
    )
    assert len(calls) == 3
    assert all(visible_units(c.params["text"]) <= 4096 for c in calls)
    assert ["reply_markup" in c.params for c in calls] == [False, False, True]


def test_a_text_longer_than_max_parts_messages_goes_as_a_document_with_all_of_it() -> None:
    text = "\n".join(f"&lt;row {n}&gt; " + "y" * 90 for n in range(300))
    calls = build_calls(row(text=text, parse_mode="HTML"), Target(5), DeliveryConfig(max_parts=4))
    assert [c.method for c in calls] == ["sendDocument"]
    document = calls[0].params["document"]
    content = base64.b64decode(document["base64"]).decode()
    assert content.count("<row ") == 300 and content.endswith("y" * 90)
    assert "<b>&lt;row 0&gt;" in calls[0].params["caption"]


def test_an_edit_targets_the_message_its_reference_sent() -> None:
    calls = build_calls(
        row("edit", ref_id=7, text="resolved", parse_mode="HTML"),
        Target(-100123, message_id=555),
        DeliveryConfig(),
    )
    assert calls[0].method == "editMessageText"
    assert calls[0].params["message_id"] == 555 and not calls[0].new_message


def test_a_reply_points_at_the_referenced_message_without_failing_if_it_is_gone() -> None:
    calls = build_calls(row(ref_id=7, text="answer"), Target(5, message_id=77), DeliveryConfig())
    assert calls[0].params["reply_parameters"] == {
        "message_id": 77,
        "allow_sending_without_reply": True,
    }


def test_refused_markup_falls_back_to_what_a_reader_would_see() -> None:
    calls = plain_text_calls(
        row(text="<b>5 < 6</b> &amp; more", parse_mode="HTML"), Target(5), DeliveryConfig()
    )
    assert calls[0].params["text"] == "5 < 6 & more"
    assert "parse_mode" not in calls[0].params


def test_a_digest_counts_everything_and_lists_the_first_lines() -> None:
    with use_locale("en"):
        text = render_text("alerts", 37, ["• a", "• b"])
    assert text.splitlines()[0].startswith("<b>37 notifications (alerts)")
    assert "…and 35 more items." in text
