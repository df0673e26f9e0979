"""Helpers for the alerting tests: a staff roster, stored probe samples, outbox reading."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.alerts.config import AlertsRules
from services.alerts.outbound import Audience
from services.clock import FrozenClock
from services.users import Person
from tests import cast

ADMIN_CHAT = -100111
SECURITY_CHAT = -100222
TZ = ZoneInfo("Asia/Jakarta")
AUDIENCE = Audience(ADMIN_CHAT, "en", TZ)

DIMAS = Person(
    cast.DIMAS, "Dimas", username="dimas", language="en", roles=frozenset({"senior_engineer"})
)
PRODUCT = Person(1002, "Putri", language="en", roles=frozenset({"product"}))
CUSTOMER = Person(1003, "Cici", language="en")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def cpu_only(**grouping: Any) -> AlertsRules:
    """Only the seed's CPU rule (the others would have no data anyway)."""
    base = AlertsRules()
    rule = base.rule("CpuHigh")
    assert rule is not None
    return AlertsRules.model_validate(
        {
            "rules": [rule.model_dump(by_alias=True)],
            "grouping": grouping,
            "telegram_chats": {"security_team": SECURITY_CHAT},
        }
    )


async def add_people(pool: asyncpg.Pool) -> None:
    for person in (DIMAS, PRODUCT, CUSTOMER):
        await pool.execute(
            "INSERT INTO users (id, first_name, username, language) VALUES ($1, $2, $3, 'en')",
            person.id,
            person.first_name,
            person.username,
        )
        if person.roles:
            await pool.execute(
                "INSERT INTO staff (user_id, display_name, roles) VALUES ($1, $2, $3)",
                person.id,
                person.first_name,
                sorted(person.roles),
            )


async def sample(
    pool: asyncpg.Pool,
    at: datetime,
    value: float,
    *,
    check: str = "system",
    key: str = "cpu_percent",
    target: str = "",
) -> None:
    """What the health checks store after a run (tables of migration 0005)."""
    run_id = await pool.fetchval(
        "INSERT INTO check_runs (started_at, duration_ms, trigger, status) "
        "VALUES ($1, 10, 'schedule', 'ok') RETURNING id",
        at,
    )
    await pool.execute(
        "INSERT INTO check_samples (run_id, at, check_name, key, target, value, unit) "
        "VALUES ($1, $2, $3, $4, $5, $6, 'percent')",
        run_id,
        at,
        check,
        key,
        target,
        value,
    )


async def outbox_rows(pool: asyncpg.Pool, chat_id: int | None = ADMIN_CHAT) -> list[Any]:
    return list(
        await pool.fetch(
            "SELECT id, chat_id, kind, payload, ref_id, owner, priority FROM outbox "
            "WHERE $1::bigint IS NULL OR chat_id = $1 ORDER BY id",
            chat_id,
        )
    )
