"""Factories for escalation stories: a roster with one person on call per level."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services import roster as staff_roster
from services.clock import FrozenClock
from services.escalation.context import EscalationContext
from services.escalation.incidents import Outcome, open_incident
from services.escalation.policy import EscalationRules
from services.users import Role
from tests.cast import ADMIN, BUDI

ADMIN_CHAT = -1001000000001
SUPPORT_CHAT = -1001000000002

SARI, DEWI, TONO, MAYA, AGUS = 2001, 2002, 2003, 2004, 2005  # levels 1..5
SECURITY, MANAGER = 2006, 2007

ROSTER = [
    (SARI, "Sari", [Role.SUPPORT_ENGINEER]),
    (DEWI, "Dewi", [Role.SENIOR_ENGINEER]),
    (TONO, "Tono", [Role.TECH_LEAD]),
    (MAYA, "Maya", [Role.ENGINEERING_MANAGER]),
    (AGUS, "Agus", [Role.CTO]),
    (ADMIN, "Adi", [Role.ADMIN]),
    (SECURITY, "Satria", [Role.SECURITY]),
    (MANAGER, "Mega", [Role.MANAGEMENT]),
]


@pytest.fixture
def ctx() -> EscalationContext:
    return EscalationContext(
        rules=EscalationRules(),
        tz=ZoneInfo("Asia/Jakarta"),
        tz_name="Asia/Jakarta",
        admin_chat_id=ADMIN_CHAT,
        support_chat_id=SUPPORT_CHAT,
    )


async def make_roster(db: asyncpg.Pool) -> None:
    for user_id, name, roles in ROSTER:
        await db.execute(
            "INSERT INTO users (id, first_name, language) VALUES ($1, $2, 'en') "
            "ON CONFLICT DO NOTHING",
            user_id,
            name,
        )
        await staff_roster.add_member(
            db, user_id=user_id, display_name=name, roles=roles, added_by=None
        )
        for role in roles:
            await staff_roster.set_on_call(db, role, user_id, set_by=ADMIN)
    await db.execute(
        "INSERT INTO users (id, first_name) VALUES ($1, 'Budi') ON CONFLICT DO NOTHING", BUDI
    )


@pytest.fixture
async def roster(pool: asyncpg.Pool) -> asyncpg.Pool:
    await make_roster(pool)
    return pool


async def private_pages(db: asyncpg.Pool, after_id: int = 0) -> list[int]:
    """Chats (people) that got a new private incident message since outbox row `after_id`."""
    rows = await db.fetch(
        "SELECT chat_id FROM outbox WHERE kind = 'text' AND chat_id > 0 AND id > $1 ORDER BY id",
        after_id,
    )
    return [r["chat_id"] for r in rows]


async def opened_now(
    db: asyncpg.Pool, ctx: EscalationContext, priority: str, title: str = "down",
    source: str = "alert",
) -> tuple[FrozenClock, Outcome]:  # fmt: skip
    """An incident opened at the start of a new frozen clock (from an alert unless `source`
    says): the clock, for the story to move, and what the opening did."""
    clock = FrozenClock()
    opened = await open_incident(db, clock, ctx, source=source, title=title, priority=priority)
    return clock, opened


async def payment_down(db: asyncpg.Pool, ctx: EscalationContext) -> tuple[FrozenClock, int]:
    """The P0 the level stories follow, "Payment processing down" from an alert: the clock it
    opened on and its ticket."""
    clock, opened = await opened_now(db, ctx, "P0", "Payment processing down")
    return clock, opened.incident.ticket_id


async def last_outbox_id(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))


@pytest.fixture(autouse=True)
def english_by_default(english_by_default: None) -> None:
    """Group notices render in DEFAULT_LOCALE; these stories read them in English."""
