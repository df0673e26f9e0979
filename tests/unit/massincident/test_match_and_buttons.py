"""Who an incident answers (table-driven), the two-language split of an update, the notice's
fallback, and the button families (packed and parsed by one codec)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.massincident import buttons
from services.massincident.buttons import CardAction, NoticeAnswer, ProposalAnswer, PublicRate
from services.massincident.fanout import split_languages
from services.massincident.model import PublicIncident, matches, parse_keywords


def incident(**fields: object) -> PublicIncident:
    base: dict[str, object] = dict(  # noqa: C408
        ticket_id=7, title="Pakasir down", priority="P1", notice_id="Gangguan", notice_en="Outage",
        categories=("payment",), keywords=(), everyone=False, declared_by=1,
        declared_at=datetime(2026, 12, 1, tzinfo=UTC), ended_at=None, support_card_id=None,
        admin_card_id=None, last_update=None, last_update_at=None, digest_outbox_id=None,
        digest_lines=0,
    )  # fmt: skip
    base.update(fields)
    return PublicIncident(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "text", "category", "expected"),
    [
        ({}, "Pembayaran saya gagal", None, True),
        ({}, "my QRIS payment failed", None, True),
        ({}, "saldonya terpotong", None, True),  # clitic: saldo
        ({}, "bayaran", None, False),  # a keyword inside a word is not the keyword
        ({}, "Bagaimana ganti kata sandi?", None, False),
        ({}, "tolong", "payment", True),  # the category the customer picked
        ({"categories": (), "keywords": ("checkout macet",)}, "Checkout MACET lagi", None, True),
        ({"categories": (), "keywords": ("checkout macet",)}, "checkout lancar", None, False),
        ({"everyone": True, "categories": ()}, "halo", None, True),
        ({"ended_at": datetime(2026, 12, 2, tzinfo=UTC)}, "pembayaran gagal", None, False),
    ],
)
def test_who_the_incident_answers(
    fields: dict[str, object], text: str, category: str | None, expected: bool
) -> None:
    assert matches(incident(**fields), text, category=category) is expected


def test_a_missing_language_falls_back_to_the_other() -> None:
    assert incident().notice_for("en") == ("Outage", False)
    assert incident(notice_en=None).notice_for("en") == ("Gangguan", True)
    assert incident(notice_id=None).notice_for("id") == ("Outage", True)
    assert incident(notice_en=None).missing_language == "en"


def test_an_update_in_two_languages_is_split_and_one_text_goes_to_both() -> None:
    assert split_languages("id: Sudah pulih\nen: Fixed now") == {
        "id": "Sudah pulih",
        "en": "Fixed now",
    }
    assert split_languages("Sudah pulih") == {"id": "Sudah pulih", "en": "Sudah pulih"}


def test_keywords_are_trimmed_and_deduplicated() -> None:
    assert parse_keywords(" QRIS ,  pembayaran   gagal, qris,,") == ("qris", "pembayaran gagal")


def test_the_buttons_pack_and_parse_back_and_refuse_forgeries() -> None:
    big = 2**62
    for press in (
        NoticeAnswer(big, "diff"), PublicRate(big, 5), ProposalAnswer(big, "decl"),
        CardAction(big, "res"),
    ):  # fmt: skip
        data = press.pack()
        assert len(data.encode()) <= 64
        assert type(press).parse(data) == press
    assert buttons.notice(7, "ok") == "mn:7:ok"
    assert NoticeAnswer.parse("mn:7:steal") is None
    assert CardAction.parse(f"mc:{2**66}:res") is None


def test_the_card_counts_the_ratings_once_resolved() -> None:
    from zoneinfo import ZoneInfo

    from services.i18n import use_locale
    from services.massincident import render
    from services.massincident.store import Affected

    ended = incident(ended_at=datetime(2026, 12, 1, 2, tzinfo=UTC))
    now = datetime(2026, 12, 1, 3, tzinfo=UTC)
    tz = ZoneInfo("Asia/Jakarta")
    with use_locale("en"):
        none_yet, _ = render.card(ended, Affected(3, ("Budi",), 10), None, now, tz)
        three, markup = render.card(ended, Affected(3, ("Budi",), 10, 3, 13 / 3), None, now, tz)
        one, _ = render.card(ended, Affected(3, ("Budi",), 10, 1, 5.0), None, now, tz)
        live, live_markup = render.card(incident(), Affected(3, ("Budi",), 10), None, now, tz)
    assert none_yet.endswith("⭐ No ratings yet")
    assert three.endswith("⭐ 3 ratings, average 4.3/5")
    assert one.endswith("⭐ 1 rating, average 5.0/5")
    assert markup == {"inline_keyboard": []}
    assert "rating" not in live
    assert [b["callback_data"] for row in live_markup["inline_keyboard"] for b in row] == [
        "mc:7:upd", "mc:7:res",
    ]  # fmt: skip
