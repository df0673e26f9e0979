"""Desk fixtures: a config, a frozen clock, Budi the customer and Rina the support engineer, and
`world`, the desk's calls bound to them all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from services import users
from services.classification import Category
from services.clock import FrozenClock
from services.escalation.context import EscalationContext, make_context
from services.escalation.scan import ScanReport, scan_once
from services.rules import Rules
from services.storage.db import QUERY_OBSERVERS, create_pool
from services.tickets import desk
from services.tickets.config import DeskConfig
from services.tickets.model import Incoming, Ticket
from services.users import Person
from tests.cast import ADMIN, BUDI
from tests.integration.conftest import SUPPORT_CHAT as SUPPORT_CHAT

RINA = 2001
OUTSIDER = 3001


@pytest.fixture
def clock() -> FrozenClock:
    # Monday 2026-11-02 10:00 in Jakarta
    return FrozenClock(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))


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


@dataclass
class DeskWorld:
    """The desk's collaborators (PostgreSQL, Redis, the config, the frozen clock) with its calls
    bound to them, so that a test says only who does what to which ticket."""

    pool: asyncpg.Pool
    redis: Redis
    cfg: DeskConfig
    clock: FrozenClock

    @property
    def _bound(self) -> tuple[asyncpg.Pool, Redis, DeskConfig, FrozenClock]:
        """What the desk's customer-side calls take first."""
        return self.pool, self.redis, self.cfg, self.clock

    async def open_ticket(
        self, customer: Person, description: str, order_ref: str | None = None
    ) -> desk.Opened:
        """A payment ticket, as the customer's form opens it."""
        return await desk.open_ticket(
            *self._bound,
            customer=customer,
            category=Category.PAYMENT,
            description=description,
            order_ref=order_ref,
        )

    async def customer_message(
        self, customer: Person, incoming: Incoming, ticket_id: int | None = None
    ) -> desk.Delivered:
        return await desk.customer_message(
            *self._bound, customer=customer, incoming=incoming, ticket_id=ticket_id
        )

    async def staff_message(self, staff: Person, incoming: Incoming, **where: int) -> Ticket | None:
        """`where`: topic_id= (a message in the ticket's topic) or ticket_id=."""
        return await desk.staff_message(
            self.pool, self.cfg, self.clock, staff=staff, incoming=incoming, **where
        )

    async def act(
        self,
        action: Callable[..., Awaitable[Ticket]],
        actor: Person,
        ticket_id: int,
        **details: Any,
    ) -> Ticket:
        """A staff action of services.tickets.actions (acknowledge, assign, set_priority,
        resolve, close) by `actor` on the ticket; `details` are the action's own (assignee=,
        priority=, chat_id=...)."""
        return await action(
            self.pool, self.cfg, self.clock, actor=actor, ticket_id=ticket_id, **details
        )


@dataclass
class IncidentDesk(DeskWorld):
    """The desk and the escalation beside it, as the bot runs them: `ctx` the incidents' context
    (the default rules), `scan` one pass of the escalation scanner (deadlines, cards the clock
    changes)."""

    ctx: EscalationContext

    @classmethod
    def beside(cls, desk: DeskWorld, admin_chat_id: int) -> IncidentDesk:
        ctx = make_context(
            Rules(),
            timezone="Asia/Jakarta",
            admin_chat_id=admin_chat_id,
            support_chat_id=desk.cfg.support_chat_id,
        )
        return cls(desk.pool, desk.redis, desk.cfg, desk.clock, ctx)

    async def scan(self) -> ScanReport:
        return await scan_once(self.pool, self.clock, self.ctx)


@pytest.fixture
def world(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock
) -> DeskWorld:
    return DeskWorld(pool, redis_client, cfg, clock)


async def observed_pool(db_url: str) -> tuple[asyncpg.Pool, list[str]]:
    """A pool of one connection whose statements are recorded as it runs them (asyncpg's
    query logger), to count a call's round trips."""
    statements: list[str] = []
    QUERY_OBSERVERS.append(lambda record: statements.append(record.query))
    try:
        return await create_pool(db_url, min_size=1, max_size=1), statements
    finally:
        QUERY_OBSERVERS.pop()
