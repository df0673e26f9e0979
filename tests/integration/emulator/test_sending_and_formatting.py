"""The bot sends; Telegram's parser and limits decide what it accepts."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.formatting import Bold, Text

from sandbox.telegram import EmulatorClient
from tests.cast import ALICE


async def test_get_me_names_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "quickcart_support_bot"
    assert me.id == bot.id


async def test_html_is_parsed_into_text_and_entities(bot: Bot, tg: EmulatorClient) -> None:
    sent = await bot.send_message(
        ALICE, 'Ticket <b>#12</b> is <a href="https://x.test/12">open</a>'
    )
    assert sent.text == "Ticket #12 is open"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 7, 3),
        ("text_link", 14, 4),
    ]
    stored = await tg.wait_for_message(ALICE)
    assert stored["html"] == 'Ticket <b>#12</b> is <a href="https://x.test/12">open</a>'
    assert stored["parse_mode"] == "HTML"


async def test_offsets_count_utf16_code_units(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "😀 <i>hi</i> &amp; &#8364;")
    assert sent.text == "😀 hi & €"
    assert sent.entities is not None
    assert (sent.entities[0].offset, sent.entities[0].length) == (3, 2)


async def test_nested_pre_with_language_and_spoiler(bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE,
        '<pre><code class="language-python">x = 1</code></pre> <tg-spoiler>s</tg-spoiler> '
        "<blockquote expandable>q</blockquote>",
    )
    kinds = {(e.type, e.language) for e in sent.entities or []}
    assert kinds == {("pre", "python"), ("spoiler", None), ("expandable_blockquote", None)}


async def test_entities_from_aiogram_formatting_are_kept(bot: Bot, tg: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, **Text("Hi ", Bold("<b>Budi</b>")).as_kwargs())
    assert sent.text == "Hi <b>Budi</b>"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    stored = await tg.wait_for_message(ALICE)
    assert stored["html"] == "Hi <b>&lt;b&gt;Budi&lt;/b&gt;</b>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a & b", 'Character "&" at byte offset 2 must be escaped'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_refused_with_telegrams_text(bot: Bot, text: str, expected: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(ALICE, text)
    assert caught.value.message.startswith("Bad Request: can't parse entities: ")
    assert expected in caught.value.message


async def test_length_is_counted_after_parsing(bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "&lt;" * 4096)
    assert sent.text == "<" * 4096
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ALICE, "<b>" + "x" * 4097 + "</b>")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ALICE, "😀" * 2049)  # 4098 UTF-16 code units


@pytest.mark.parametrize("text", ["", "   ", "<b></b>"])
async def test_empty_text_is_refused(bot: Bot, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ALICE, text)


async def test_markdown_v2_needs_reserved_characters_escaped(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(ALICE, "Done.", parse_mode=ParseMode.MARKDOWN_V2)
    assert caught.value.message == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
        "with the preceding '\\'"
    )
    sent = await bot.send_message(
        ALICE, "*Done*\\. _see_ [it](https://x.test) `a.b`", parse_mode=ParseMode.MARKDOWN_V2
    )
    assert sent.text == "Done. see it a.b"
    assert [e.type for e in sent.entities or []] == ["bold", "italic", "text_link", "code"]


async def test_callback_data_over_64_bytes_is_refused(bot: Bot) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Ack", callback_data=data)]]
        )

    sent = await bot.send_message(ALICE, "ok", reply_markup=keyboard("x" * 64))
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "x" * 64
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard("x" * 65))


async def test_edit_with_same_content_is_not_modified(bot: Bot, tg: EmulatorClient) -> None:
    sent = await bot.send_message(ALICE, "<b>v1</b>")
    edited = await bot.edit_message_text(
        text="<b>v2</b>", chat_id=ALICE, message_id=sent.message_id
    )
    assert not isinstance(edited, bool) and edited.text == "v2" and edited.edit_date
    seen = await tg.wait_for_edit(ALICE, sent.message_id)
    assert seen["text"] == "v2" and seen["edit_count"] == 1
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(text="<b>v2</b>", chat_id=ALICE, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=ALICE, message_id=999)


async def test_delete_and_reply(bot: Bot, tg: EmulatorClient) -> None:
    first = await bot.send_message(ALICE, "first")
    reply = await bot.send_message(ALICE, "second", reply_to_message_id=first.message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == first.message_id
    assert await bot.delete_message(ALICE, first.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(ALICE, first.message_id)
    assert [m["text"] for m in await tg.messages(ALICE)] == ["second"]
