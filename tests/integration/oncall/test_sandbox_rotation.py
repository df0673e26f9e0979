"""The sandbox cast has a weekly rotation (Dimas this week, Eko the next, Monday 09:00), and the
world panel's button moves the demo clock to the next handoff, where Eko takes over."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from bot.sandbox_cast import handoff_finder, seed_roster, seed_rotation
from sandbox.world import DemoWorld, WorldConfig, cast
from services.escalation.policy import EscalationRules
from services.oncall import lookup, views
from services.oncall.actions import OncallContext

WIB = ZoneInfo("Asia/Jakarta")


def ctx() -> OncallContext:
    return OncallContext(
        tz=WIB, escalation=EscalationRules(), admin_chat_id=None, default_locale="id"
    )


async def test_the_cast_rotates_weekly_and_the_panel_jumps_to_the_handoff(
    db_url: str, pool: asyncpg.Pool
) -> None:
    folder = Path(tempfile.mkdtemp()) / "quickcart"
    folder.mkdir()
    world = DemoWorld(
        WorldConfig(
            folder=folder,
            demo_url=db_url,
            admin_url=None,
            pg_dump="pg_dump",
        )
    )
    now = world.clock.now()
    await seed_roster(db_url)
    await seed_rotation(db_url, now, "Asia/Jakarta")
    await seed_rotation(db_url, now, "Asia/Jakarta")  # a restart seeds nothing twice
    assert await pool.fetchval("SELECT count(*) FROM oncall_rotations") == 1

    rows = {row.role: row for row in await views.board(pool, ctx(), now)}
    senior = rows[cast.ROTATION_ROLE]
    assert senior.current is not None and senior.current.user_id == cast.DIMAS.id
    assert senior.following is not None and senior.following.user_id == cast.EKO.id
    handoff = senior.current.end.astimezone(WIB)
    assert (handoff.weekday(), handoff.hour, handoff.minute) == (0, 9, 0)
    assert timedelta(0) < handoff - now <= timedelta(weeks=1)
    # level 2 pages Dimas now
    paged = await lookup.for_level(pool, EscalationRules(), 2, now, WIB)
    assert [p.user_id for p in paged] == [cast.DIMAS.id]

    world.next_handoff = handoff_finder(db_url, "Asia/Jakarta")
    await world.act("clock_next_handoff")
    moved = world.clock.now()
    assert handoff < moved < handoff + timedelta(seconds=5)
    paged = await lookup.for_level(pool, EscalationRules(), 2, moved, WIB)
    assert [p.user_id for p in paged] == [cast.EKO.id]
    assert await world.next_handoff(moved) == handoff + timedelta(weeks=1)
