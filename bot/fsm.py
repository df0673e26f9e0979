"""Conversation state (aiogram's FSM) in Redis, read only where there may be one.

aiogram reads the state from Redis before every update, whether or not the chat has one: one
Redis round trip of every customer message in a storm, where almost nobody is in the middle of
a flow. A person's private chat with the bot is marked in PostgreSQL (`users.private_state`)
while it may hold a state, and the person's touch (`users.touch`, which runs for every update
anyway) reads the mark: unmarked, there is no state to read.

- `HintedStorage` marks before it writes a state and unmarks after it removes one, so an
  unmarked chat never has a state (a crash in between leaves a mark without a state: one read
  too many, which clears it).
- `HintedFSM` is aiogram's FSM middleware placed after `PersonMiddleware`, which has the
  mark. It takes no lock: the inbox hands each conversation's updates over one at a time, in
  order, across replicas (bot/intake.py), so no two updates of a chat read or write its state
  at once.
- Groups, topics and other destinies are read as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import asyncpg
from aiogram import Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DEFAULT_DESTINY, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject
from redis.asyncio import Redis

from services import users
from services.users import Person

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def private(key: StorageKey) -> bool:
    """Whether the key is a person's own state in their private chat with the bot."""
    return (
        key.chat_id == key.user_id
        and key.thread_id is None
        and key.business_connection_id is None
        and key.destiny == DEFAULT_DESTINY
    )


class HintedStorage(RedisStorage):
    def __init__(self, redis: Redis, pool: asyncpg.Pool) -> None:
        super().__init__(redis=redis, key_builder=DefaultKeyBuilder(with_destiny=True))
        self.pool = pool

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        marked = private(key)
        if marked and state is not None:
            await users.set_private_state(self.pool, key.user_id, True)
        await super().set_state(key, state)
        if marked and state is None:
            await users.set_private_state(self.pool, key.user_id, False)


class HintedFSM(FSMContextMiddleware):
    def __init__(self, storage: HintedStorage) -> None:
        super().__init__(storage=storage, events_isolation=DisabledEventIsolation())
        self.pool = storage.pool

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.resolve_event_context(cast(Bot, data["bot"]), data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        person, key = data.get("person"), context.key
        own = isinstance(person, Person) and private(key) and person.id == key.user_id
        marked = person.private_state if own and isinstance(person, Person) else True
        raw_state = await context.get_state() if marked else None
        if own and marked and raw_state is None:  # a flow that ended without unmarking
            await users.set_private_state(self.pool, key.user_id, False)
        data.update({"state": context, "raw_state": raw_state})
        return await handler(event, data)
