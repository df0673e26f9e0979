"""Swaps of whole shifts need both people's Accept; a gap in the schedule is announced to the
admin chat a day ahead, once, and handoffs are told once each."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services import roster as staff_roster
from services import users
from services.escalation.context import EscalationContext
from services.oncall import lookup, store, swaps
from services.oncall.actions import OncallContext, OncallError
from services.oncall.handoffs import scan_once
from services.oncall.model import LayerSpec, OncallRules, RotationSpec
from services.staff import NotAllowed
from services.users import Role
from tests.cast import SARI, person
from tests.integration.escalation.conftest import ADMIN_CHAT, DEWI

WIB = ZoneInfo("Asia/Jakarta")
EKO = 2011


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def weekly(*layers: LayerSpec) -> OncallRules:
    base = LayerSpec(
        members=[SARI, EKO], shift="weekly", handoff="monday 09:00",
        start=wib("2026-11-02 00:00").date(),
    )  # fmt: skip
    return OncallRules(rotations={Role.SUPPORT_ENGINEER: RotationSpec(layers=[*layers] or [base])})


@pytest.fixture
async def desk(roster: asyncpg.Pool) -> asyncpg.Pool:
    await users.touch(roster, EKO, first_name="Eko", username="eko")
    await staff_roster.add_member(
        roster, user_id=EKO, display_name="Eko", roles=[Role.SUPPORT_ENGINEER], added_by=None
    )
    return roster


def octx(ctx: EscalationContext) -> OncallContext:
    return OncallContext(
        tz=WIB, escalation=ctx.rules, admin_chat_id=ADMIN_CHAT, default_locale="en"
    )


async def who(db: asyncpg.Pool, ctx: EscalationContext, at: datetime) -> list[int]:
    return [p.user_id for p in await lookup.for_level(db, ctx.rules, 1, at, WIB)]


async def test_a_swap_needs_both_and_then_trades_whole_weeks(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    await store.sync_rules(desk, weekly())
    c = octx(ctx)
    now = wib("2026-11-04 12:00")  # Sari's week runs; Eko has Nov 9, Sari Nov 16
    sari, eko, dewi = [await person(desk, u) for u in (SARI, EKO, DEWI)]
    # Dewi is not a party and not an admin: refused.
    with pytest.raises(NotAllowed):
        await swaps.propose_swap(
            desk, c, dewi, role="support_engineer", a_user=SARI, a_at=wib("2026-11-16 09:00"),
            b_user=EKO, b_at=wib("2026-11-09 09:00"), now=now, chat_id=DEWI,
        )  # fmt: skip
    # The running week is history in part: it cannot be swapped.
    with pytest.raises(OncallError):
        await swaps.propose_swap(
            desk, c, sari, role="support_engineer", a_user=SARI, a_at=now,
            b_user=EKO, b_at=wib("2026-11-09 09:00"), now=now, chat_id=SARI,
        )  # fmt: skip
    swap = await swaps.propose_swap(
        desk, c, sari, role="support_engineer", a_user=SARI, a_at=wib("2026-11-16 09:00"),
        b_user=EKO, b_at=wib("2026-11-09 09:00"), now=now, chat_id=SARI,
    )  # fmt: skip
    assert (swap.a_start, swap.a_end) == (wib("2026-11-16 09:00"), wib("2026-11-23 09:00"))
    assert swap.a_accepted and not swap.b_accepted
    # Eko is asked with Accept / Decline buttons.
    asked = await desk.fetchval(
        "SELECT payload FROM outbox WHERE chat_id = $1 ORDER BY id DESC LIMIT 1", EKO
    )
    assert f"osw:{swap.id}:yes" in str(asked)
    assert await who(desk, ctx, wib("2026-11-10 12:00")) == [EKO]  # nothing yet
    # Dewi pressing Eko's button is refused.
    with pytest.raises(NotAllowed):
        await swaps.answer_swap(desk, c, dewi, swap.id, True, now, DEWI)
    done = await swaps.answer_swap(desk, c, eko, swap.id, True, now, EKO)
    assert done.a_accepted and done.b_accepted
    assert await who(desk, ctx, wib("2026-11-10 12:00")) == [SARI]
    assert await who(desk, ctx, wib("2026-11-17 12:00")) == [EKO]
    with pytest.raises(OncallError):  # answered already
        await swaps.answer_swap(desk, c, eko, swap.id, True, now, EKO)
    told = await desk.fetchval(
        "SELECT count(*) FROM outbox WHERE chat_id = $1 AND payload->>'text' LIKE '%swapped%'",
        SARI,
    )
    assert told == 1


async def test_a_gap_is_announced_a_day_ahead_once_and_handoffs_once(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    office = LayerSpec(
        name="office", members=[SARI, EKO], shift="daily", handoff="09:00",
        start=wib("2026-11-02 00:00").date(), restrict=["mon-fri 09:00-17:00"],
    )  # fmt: skip
    await store.sync_rules(desk, weekly(office))
    c = octx(ctx)

    async def admin_texts() -> list[str]:
        rows = await desk.fetch(
            "SELECT payload->>'text' AS t FROM outbox WHERE chat_id = $1 ORDER BY id", ADMIN_CHAT
        )
        return [r["t"] for r in rows]

    # Monday 16:00: tonight's gap (17:00 - Tuesday 09:00) is within a day: announced once.
    await scan_once(desk, c, wib("2026-11-02 16:00"), wib("2026-11-02 15:59"), None)
    await scan_once(desk, c, wib("2026-11-02 16:01"), wib("2026-11-02 16:00"), None)
    gaps = [t for t in await admin_texts() if "Nobody is on call" in t]
    assert gaps == [
        "⚠️ Nobody is on call as Support Engineer from Mon 02.11 17:00 to Tue 03.11 09:00. "
        "Pages go to the next level (Senior Engineer) meanwhile. Fill it with /oncall cover."
    ]
    # Tuesday 09:00: Eko's day starts; the handoff from nobody is told once.
    report = await scan_once(desk, c, wib("2026-11-03 09:00:30"), wib("2026-11-03 08:59"), None)
    assert [(r, o, i) for r, o, i, _at in report.handoffs] == [("support_engineer", None, EKO)]
    again = await scan_once(desk, c, wib("2026-11-03 09:01"), wib("2026-11-03 08:59"), None)
    assert again.handoffs == []
    assert [t for t in await admin_texts() if t.startswith("📟")] == [
        "📟 Support Engineer: nobody (gap) → Eko"
    ]

    # Friday: the weekend gap is told whole, though it lasts longer than the day looked ahead.
    await scan_once(desk, c, wib("2026-11-06 16:00"), wib("2026-11-06 15:59"), None)
    weekend = [t for t in await admin_texts() if "Fri 06.11 17:00" in t]
    assert len(weekend) == 1 and "to Mon 09.11 09:00" in weekend[0], weekend
