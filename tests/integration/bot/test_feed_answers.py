"""The inbox's feed sends what a handler queued for people once the handler is done
(bot/intake.dispatcher_feed): the conversations of its answers, not of its other rows, and
nothing for an update that failed (it will be handled again)."""

from __future__ import annotations

import asyncpg
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message

from bot.intake import dispatcher_feed
from services import outbox
from services.outbox import PRIORITY_INTERACTIVE, PRIORITY_REPORT
from tests.cast import ALICE
from tests.integration.inbox.test_inbox import private

TOKEN = "42:feed-answers-test"
STAFF_CHAT = -100123


@pytest.fixture
def dispatcher(pool: asyncpg.Pool) -> Dispatcher:
    router = Router()

    @router.message()
    async def answer(message: Message) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.send_text(
                conn, ALICE, {"text": "Tiket dibuat"}, priority=PRIORITY_INTERACTIVE
            )
            await outbox.send_text(
                conn, STAFF_CHAT, {"text": "laporan"}, priority=PRIORITY_REPORT, thread_id=7
            )
        if message.text == "boom":
            raise RuntimeError("the handler failed after its commit")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def test_the_answers_of_a_handled_update_are_handed_on_after_it(
    dispatcher: Dispatcher,
) -> None:
    handed: list[set[str]] = []

    async def answers(conversations: set[str]) -> None:
        handed.append(set(conversations))

    bot = Bot(TOKEN)
    try:
        feed = dispatcher_feed(dispatcher, bot, answers)
        await feed(private(1, ALICE, "halo"))
        assert handed == [{f"{ALICE}:0"}]

        with pytest.raises(RuntimeError):
            await feed(private(2, ALICE, "boom"))
        assert handed == [{f"{ALICE}:0"}], "a failed update hands nothing on"
    finally:
        await bot.session.close()


async def test_an_update_is_not_failed_by_its_answers_failing_to_leave_at_once(
    dispatcher: Dispatcher,
) -> None:
    async def answers(_conversations: set[str]) -> None:
        raise ConnectionError("the delivery worker's claim broke")

    bot = Bot(TOKEN)
    try:
        # handled and committed: the inbox must not handle it again (the loop sends the rows)
        await dispatcher_feed(dispatcher, bot, answers)(private(3, ALICE, "halo"))
    finally:
        await bot.session.close()
