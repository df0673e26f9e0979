"""Topic titles the way Telegram counts them (code points, cut between whole emoji), and the
desk keeping a message whose text or author name holds what PostgreSQL cannot store."""

from __future__ import annotations

import unicodedata

import pytest

from sandbox.telegram.chats import clean_topic_name
from services.text import cut, shorten
from services.tickets import render
from services.tickets.model import Incoming
from tests.unit.tickets.test_render import ticket

FLAG = "🇮🇩"  # two regional indicators
FAMILY = "👨\u200d👩\u200d👧"  # three emoji joined by ZWJ
THUMB = "👍🏽"  # emoji + skin tone modifier
KEYCAP = "1\ufe0f\u20e3"  # 1️⃣
HEAD = len(render.topic_title(ticket(customer_name="x"))) - 1  # "🆕 QC-000123 · P1 · "


def _whole(title: str) -> bool:
    """No cluster cut open at the end (before the "…")."""
    body = title.removesuffix("…")
    last = body[-1]
    regional = 0
    while regional < len(body) and 0x1F1E6 <= ord(body[-1 - regional]) <= 0x1F1FF:
        regional += 1
    return last != "\u200d" and regional % 2 == 0 and unicodedata.category(last) != "Mn"


@pytest.mark.parametrize("emoji", [FLAG, FAMILY, THUMB, KEYCAP])
@pytest.mark.parametrize("offset", range(6))
def test_a_long_name_is_cut_between_whole_emoji(emoji: str, offset: int) -> None:
    name = "x" * (128 - HEAD - 3 - offset) + emoji * 6  # the cut lands in every position
    title = render.topic_title(ticket(customer_name=name))
    assert len(title) <= 128 and title.endswith("…")
    assert _whole(title), [hex(ord(c)) for c in title[-6:]]


def test_telegram_keeps_the_bots_title_exactly() -> None:
    """The emulator's `clean_name` (what Telegram stores) leaves the bot's titles as they are,
    even when emoji make them far longer than 128 UTF-16 code units."""
    for name in ("😀" * 200, FLAG * 70, "Budi " * 60, "Dewi 😀 " * 30):
        title = render.topic_title(ticket(customer_name=name))
        assert clean_topic_name(title) == title
        assert len(title) <= 128 < len(title.encode("utf-16-le")) // 2 or name == "Budi " * 60


def test_cut_and_shorten_count_code_points() -> None:
    assert cut("😀" * 10, 4) == "😀" * 4
    assert shorten("😀" * 10, 5) == "😀" * 4 + "…"
    assert cut("ab" + FLAG + FLAG, 5) == "ab" + FLAG  # a flag is never halved
    assert cut("e\u0301" * 3, 3) == "e\u0301"  # nor an accent torn off its letter


def test_an_incoming_message_keeps_its_words_without_nul_or_lone_surrogates() -> None:
    incoming = Incoming(
        chat_id=1,
        message_id=2,
        author_id=1,
        kind="text",
        text="Saldo\x00 saya hilang \ud800😀",
        author_name="Bu\x00di",
    )
    assert incoming.text is not None
    assert "\x00" not in incoming.text
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in incoming.text)
    assert incoming.text.startswith("Saldo saya hilang") and incoming.text.endswith("😀")
    assert incoming.author_name == "Budi"
    assert Incoming(1, 2, 1, "photo").text is None
