"""Forum topics, photos and documents."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from sandbox.telegram import EmulatorClient
from sandbox.telegram.people import tiny_png
from tests.cast import ALICE, BUDI

from .conftest import STAFF


async def test_forum_topics_live_and_die(bot: Bot, tg: EmulatorClient) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    topic = await bot.create_forum_topic(support["id"], "Budi: payment failed")
    thread = topic.message_thread_id
    sent = await bot.send_message(support["id"], "New ticket", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert await bot.edit_forum_topic(support["id"], thread, name="[P1] Budi: payment failed")
    assert await bot.close_forum_topic(support["id"], thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(support["id"], thread)
    assert await bot.reopen_forum_topic(support["id"], thread)
    (seen,) = await tg.topics(support["id"])
    assert seen["name"] == "[P1] Budi: payment failed" and not seen["closed"]

    await tg.send_text(STAFF, support["id"], "On it", thread_id=thread)
    reply = await tg.wait_for_message(support["id"], thread_id=thread, from_bot=False)
    assert reply["text"] == "On it" and reply["is_topic_message"]

    assert await bot.delete_forum_topic(support["id"], thread)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message thread not found"):
        await bot.send_message(support["id"], "hello?", message_thread_id=thread)


async def test_a_topic_deleted_by_hand_is_not_found(bot: Bot, tg: EmulatorClient) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    topic = await bot.create_forum_topic(support["id"], "Alice")
    await tg.delete_topic(support["id"], topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(support["id"], "x", message_thread_id=topic.message_thread_id)


async def test_topics_need_a_forum(bot: Bot, tg: EmulatorClient) -> None:
    plain = await tg.create_chat("Ops", admins=[STAFF])
    with pytest.raises(TelegramBadRequest, match="Bad Request: the chat is not a forum"):
        await bot.create_forum_topic(plain["id"], "nope")


async def test_a_customer_photo_is_copied_into_a_topic(bot: Bot, tg: EmulatorClient) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    topic = await bot.create_forum_topic(support["id"], "Budi")
    photo = await tg.send_photo(BUDI, BUDI, tiny_png(40, 30), caption="my receipt")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.photo is not None
    assert update.message.photo[-1].width == 40 and update.message.caption == "my receipt"
    copied = await bot.copy_message(
        support["id"], BUDI, photo["message_id"], message_thread_id=topic.message_thread_id
    )
    stored = await tg.wait_for_message(support["id"], thread_id=topic.message_thread_id)
    assert stored["message_id"] == copied.message_id
    assert stored["caption"] == "my receipt"
    assert stored["photo"][0]["file_id"] == update.message.photo[-1].file_id
    forwarded = await bot.forward_message(ALICE, BUDI, photo["message_id"])
    assert forwarded.forward_origin is not None and forwarded.photo
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(ALICE, BUDI, 999)


async def test_a_document_goes_up_and_comes_back(bot: Bot, tg: EmulatorClient) -> None:
    content = b"order_id,amount\n42,150000\n"
    sent = await bot.send_document(
        ALICE,
        BufferedInputFile(content, filename="report.csv"),
        caption="<b>Weekly</b> report",
    )
    assert sent.document is not None and sent.document.file_name == "report.csv"
    assert sent.caption == "Weekly report"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == content
    again = await bot.send_document(BUDI, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    edited = await bot.edit_message_caption(
        chat_id=ALICE, message_id=sent.message_id, caption="Final report"
    )
    assert not isinstance(edited, bool) and edited.caption == "Final report"


async def test_a_user_document_can_be_fetched_by_the_bot(bot: Bot, tg: EmulatorClient) -> None:
    await tg.send_document(ALICE, ALICE, b"%PDF-1.4 fake", "invoice.pdf", "application/pdf")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.document.mime_type == "application/pdf"
    file = await bot.get_file(update.message.document.file_id)
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"%PDF-1.4 fake"
