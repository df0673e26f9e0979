"""/email's refusals (services/email/link.py): each carries the reason its handler answers
with (handlers/email_link.py REFUSALS), against the real Redis that holds the pending code."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

import asyncpg
import pytest
from redis.asyncio import Redis

from services.clock import FrozenClock
from services.email import link
from services.users import Person

CUSTOMER = Person(id=4242, first_name="Sari <&>", language="en")


async def reason(call: Awaitable[object]) -> str:
    with pytest.raises(link.LinkError) as refused:
        await call
    assert str(refused.value) == refused.value.reason
    return refused.value.reason


async def test_each_refusal_names_its_reason(pool: asyncpg.Pool, redis_client: Redis) -> None:
    clock = FrozenClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

    assert await reason(link.request(pool, redis_client, clock, CUSTOMER, "not an address")) == (
        "bad_address"
    )
    assert await reason(link.confirm(pool, redis_client, clock, CUSTOMER, "123456")) == "no_code"

    await link.request(pool, redis_client, clock, CUSTOMER, "Sari@Example.com")
    wrong = [
        await reason(link.confirm(pool, redis_client, clock, CUSTOMER, "xxxxxx"))
        for _ in range(link.TRIES)
    ]
    assert wrong == ["wrong_code"] * (link.TRIES - 1) + ["expired"]
    assert await reason(link.confirm(pool, redis_client, clock, CUSTOMER, "123456")) == "no_code"

    for _ in range(link.REQUESTS_PER_HOUR - 1):
        await link.request(pool, redis_client, clock, CUSTOMER, "sari@example.com")
    assert await reason(link.request(pool, redis_client, clock, CUSTOMER, "sari@example.com")) == (
        "too_many"
    )
