"""Desk fixtures: a config, a frozen clock, Budi the customer and Rina the support engineer."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services import users
from services.clock import FrozenClock
from services.rules import Rules
from services.tickets.config import DeskConfig
from services.users import Person
from tests.cast import ADMIN, BUDI

SUPPORT_CHAT = -1001234567890
RINA = 2001
OUTSIDER = 3001


@pytest.fixture
def clock() -> FrozenClock:
    # Monday 2026-11-02 10:00 in Jakarta
    return FrozenClock(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))


@pytest.fixture
def cfg() -> DeskConfig:
    return DeskConfig.build(
        support_chat_id=SUPPORT_CHAT, timezone="Asia/Jakarta", staff_locale="en", rules=Rules()
    )


async def make_staff(pool: asyncpg.Pool, user_id: int, name: str, roles: list[str]) -> Person:
    await users.touch(pool, user_id, first_name=name)
    await pool.execute(
        "INSERT INTO staff (user_id, display_name, roles) VALUES ($1, $2, $3)",
        user_id,
        name,
        roles,
    )
    person = await users.get(pool, user_id)
    assert person is not None
    return person


@pytest.fixture
async def budi(pool: asyncpg.Pool) -> Person:
    await users.touch(pool, BUDI, first_name="Budi", last_name="Santoso", username="budi")
    await users.set_language(pool, BUDI, "id")
    person = await users.get(pool, BUDI)
    assert person is not None
    return person


@pytest.fixture
async def rina(pool: asyncpg.Pool) -> Person:
    return await make_staff(pool, RINA, "Rina", ["support_engineer"])


@pytest.fixture
async def admin(pool: asyncpg.Pool) -> Person:
    return await make_staff(pool, ADMIN, "Adi", ["admin"])


@pytest.fixture
async def outsider(pool: asyncpg.Pool) -> Person:
    return await users.touch(pool, OUTSIDER, first_name="Joko")
