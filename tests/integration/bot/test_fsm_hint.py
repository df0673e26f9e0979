"""Conversation state is read from Redis only where there may be one (bot/fsm.py), on real
PostgreSQL and Redis through aiogram's dispatcher: a customer with no flow under way costs no
Redis read, a flow's state is still found, and a mark left without a state clears itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message, Update

from bot.fsm import HintedFSM, HintedStorage
from bot.middlewares import PersonMiddleware
from tests.cast import ALICE, BUDI
from tests.integration.inbox.test_inbox import private

TOKEN = "42:fsm-hint-test"
GROUP = -100777
ASKING = "Flow:asking"


class Counted(HintedStorage):
    reads = 0

    async def get_state(self, key: StorageKey) -> str | None:
        self.reads += 1
        return await super().get_state(key)


class World:
    def __init__(self, pool: asyncpg.Pool, redis_client: aioredis.Redis) -> None:
        self.pool = pool
        self.storage = Counted(redis_client, pool)
        self.seen: list[tuple[str, str | None]] = []
        router = Router()

        @router.message(Command("flow"))
        async def start(message: Message, state: FSMContext) -> None:
            await state.set_state(ASKING)

        @router.message(StateFilter(ASKING))
        async def answered(message: Message, state: FSMContext, raw_state: str | None) -> None:
            self.seen.append((message.text or "", raw_state))
            await state.clear()

        @router.message()
        async def anything(message: Message, raw_state: str | None) -> None:
            self.seen.append((message.text or "", raw_state))

        self.dp = Dispatcher(storage=self.storage, disable_fsm=True)
        self.dp.message.outer_middleware(PersonMiddleware(pool))
        self.dp.message.outer_middleware(HintedFSM(self.storage))
        self.dp.include_router(router)
        self.bot = Bot(TOKEN)
        self.update_id = 0

    async def send(self, payload: dict[str, Any]) -> int:
        """Feed one update; the Redis reads it cost."""
        before = self.storage.reads
        await self.dp.feed_update(self.bot, Update.model_validate(payload))
        return self.storage.reads - before

    def text(self, user: int, text: str, chat: int | None = None) -> dict[str, Any]:
        self.update_id += 1
        payload = private(self.update_id, user, text)
        if chat is not None:
            payload["message"]["chat"] = {"id": chat, "type": "supergroup", "title": "Staff"}
        return payload

    async def marked(self, user: int) -> bool:
        return bool(await self.pool.fetchval("SELECT private_state FROM users WHERE id = $1", user))


@pytest.fixture
async def world(pool: asyncpg.Pool, redis_client: aioredis.Redis) -> AsyncIterator[World]:
    await redis_client.flushdb()
    made = World(pool, redis_client)
    yield made
    await made.bot.session.close()


async def test_a_customer_with_no_flow_under_way_costs_no_state_read(world: World) -> None:
    assert await world.send(world.text(ALICE, "halo <&> 😀")) == 0
    assert await world.send(world.text(ALICE, "x" * 5000)) == 0
    assert world.seen == [("halo <&> 😀", None), ("x" * 5000, None)]
    assert not await world.marked(ALICE)


async def test_a_flows_state_is_found_and_the_mark_goes_with_it(world: World) -> None:
    await world.send(world.text(ALICE, "halo"))
    await world.send(world.text(ALICE, "/flow"))
    assert await world.marked(ALICE), "marked before the state was written"
    assert await world.send(world.text(ALICE, "nomor pesanan 123")) == 1
    assert world.seen[-1] == ("nomor pesanan 123", ASKING), "the flow's handler took it"
    assert not await world.marked(ALICE), "cleared with the state"
    assert await world.send(world.text(ALICE, "terima kasih")) == 0
    assert world.seen[-1:] == [("terima kasih", None)]


async def test_a_mark_without_a_state_costs_one_read_then_clears(world: World) -> None:
    # Someone met before the mark existed (the migration marks everyone), or a crash between
    # the mark and the state's write.
    await world.pool.execute(
        "INSERT INTO users (id, first_name, private_state) VALUES ($1, 'Budi', true)", BUDI
    )
    assert await world.send(world.text(BUDI, "halo")) == 1
    assert not await world.marked(BUDI)
    assert await world.send(world.text(BUDI, "halo lagi")) == 0


async def test_a_group_chat_is_read_as_before(world: World) -> None:
    assert await world.send(world.text(ALICE, "pagi", chat=GROUP)) == 1
    assert await world.send(world.text(ALICE, "pagi lagi", chat=GROUP)) == 1
