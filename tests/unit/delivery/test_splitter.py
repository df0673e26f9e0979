"""Long texts are split on line boundaries into parts Telegram accepts, tags balanced."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from services.delivery import splitter
from services.delivery.splitter import first_line, split_text, visible_text, visible_units
from services.text import TELEGRAM_TEXT_LIMIT


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with {self.stack}")
        else:
            self.stack.pop()


def assert_balanced(part: str) -> None:
    checker = _Balance()
    checker.feed(part)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"left open: {checker.stack}"


def alert_report(lines: int) -> str:
    rows = [
        f"<b>Alert {n}</b> on <code>db-{n % 7}</code>: <i>latency &gt; 2s</i> "
        f'<a href="https://grafana.example/d/{n}">graph</a>'
        for n in range(lines)
    ]
    return "<blockquote>" + "\n".join(rows) + "</blockquote>"


def test_a_short_text_is_one_part_unchanged() -> None:
    assert split_text("<b>ok</b> &amp; fine") == ["<b>ok</b> &amp; fine"]


def test_a_ten_thousand_character_report_splits_into_balanced_parts_losing_nothing() -> None:
    text = alert_report(300)
    assert visible_units(text) > 10_000
    parts = split_text(text)
    assert len(parts) >= 3
    for part in parts:
        assert visible_units(part) <= 4096
        assert_balanced(part)
        assert part.startswith("<blockquote>") and part.endswith("</blockquote>")
    seen = "\n".join(visible_text(p).strip("\n") for p in parts)
    assert seen == visible_text(text)


def test_parts_end_on_line_boundaries() -> None:
    text = "\n".join(f"line {n:04d} " + "x" * 50 for n in range(300))
    parts = split_text(text, html_mode=False)
    for part in parts:
        assert re.fullmatch(r"(line \d{4} x{50}\n?)+", part), part[-80:]


def test_a_tag_open_across_the_cut_is_closed_and_reopened_with_its_attributes() -> None:
    body = "\n".join("y" * 60 for _ in range(100))
    text = f'<a href="https://x.example/run">{body}</a>'
    first, second = split_text(text)[:2]
    assert first.endswith("</a>")
    assert second.startswith('<a href="https://x.example/run">')


def test_a_single_line_longer_than_a_message_is_cut_at_spaces_then_anywhere() -> None:
    words = " ".join(["word"] * 2000)
    parts = split_text(words, html_mode=False)
    assert all(visible_units(p, html_mode=False) <= 4096 for p in parts)
    assert all(p.rstrip().endswith("word") for p in parts)
    solid = "z" * 9000
    assert [len(p) for p in split_text(solid, html_mode=False)] == [4096, 4096, 808]


def test_entities_count_as_one_character_and_are_never_cut() -> None:
    text = "&lt;" * 5000
    parts = split_text(text)
    assert [visible_units(p) for p in parts] == [4096, 904]
    assert all(re.fullmatch(r"(&lt;)+", p) for p in parts)


def test_plain_text_angle_brackets_are_not_taken_for_tags() -> None:
    text = "a <b> that is not a tag\n" * 300
    parts = split_text(text, html_mode=False)
    assert "".join(parts).count("<b>") == 300


def test_characters_outside_the_basic_plane_count_twice_as_telegram_does() -> None:
    text = "🔥" * 3000
    parts = split_text(text, html_mode=False)
    assert [len(p) for p in parts] == [2048, 952]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>Disk full</b> on db-1\nmore", "Disk full on db-1"),
        ("\n\n  <i>x &amp; y</i>", "x & y"),
        ("<b>" + "a" * 100 + "</b>", "a" * 79 + "…"),
    ],
)
def test_first_line_is_what_a_digest_lists(text: str, expected: str) -> None:
    assert first_line(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "Pembayaran QRIS gagal &amp; saldo terpotong",
        "🚀" * 2048,  # 4,096 UTF-16 units: fits exactly
        "🚀" * 2049,
        "x" * 4096,
        "x" * 4097,
        "a &lt;b&gt; &#128512; " * 200,
        "<b>tebal</b> dan <i>miring",
        "💬 <b>Budi &amp; Sari</b>:\nHalo <i>x</i> <B>y</b> <a href='u'>z</a>",
        "<b><i>dua</b></i> lapis",
        "</b>tutup saja",
        "<code>" + "x" * 5000 + "</code>",
    ],
)
@pytest.mark.parametrize("html_mode", [True, False])
def test_the_short_way_gives_what_the_long_way_gives(text: str, html_mode: bool) -> None:
    assert split_text(text, html_mode=html_mode) == splitter._walk(
        text, html_mode, TELEGRAM_TEXT_LIMIT
    )
