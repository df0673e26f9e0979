"""The escalation tree asks the schedule: level 1's rotation pages whoever is on call then
(an override included), a gap pages level 2 for as long as it lasts, a role without a rotation
keeps its `/oncall set` slot; a page not acknowledged in N minutes reaches the person's SMS
webhook, an acknowledged one does not; overrides of someone else's shift need an admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services import roster as staff_roster
from services import users
from services.alerts.config import SmsChannel
from services.clock import FrozenClock
from services.escalation.context import EscalationContext
from services.escalation.incidents import acknowledge, escalate, open_incident
from services.oncall import actions, contacts, store
from services.oncall.actions import OncallContext, OncallError
from services.oncall.handoffs import scan_once
from services.oncall.model import LayerSpec, OncallRules, RotationSpec
from services.staff import NotAllowed
from services.users import Role
from tests.cast import ADMIN, SARI
from tests.integration.escalation.conftest import DEWI, private_pages
from tests.net import json_hook

WIB = ZoneInfo("Asia/Jakarta")
EKO, FAJAR = 2011, 2012  # two more support engineers


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def business_hours_only() -> RotationSpec:
    """Support on call Mon-Fri 09:00-17:00 only: Sari, Eko, Fajar by the day."""
    layer = LayerSpec(
        name="office", members=[SARI, EKO, FAJAR], shift="daily", handoff="09:00",
        start=wib("2026-11-02 00:00").date(), restrict=["mon-fri 09:00-17:00"],
    )  # fmt: skip
    return RotationSpec(layers=[layer])


@pytest.fixture
async def desk(roster: asyncpg.Pool) -> asyncpg.Pool:
    for user_id, name in ((EKO, "Eko"), (FAJAR, "Fajar")):
        await users.touch(roster, user_id, first_name=name, username=name.lower())
        await staff_roster.add_member(
            roster, user_id=user_id, display_name=name, roles=[Role.SUPPORT_ENGINEER],
            added_by=None,
        )  # fmt: skip
    await store.sync_rules(
        roster, OncallRules(rotations={Role.SUPPORT_ENGINEER: business_hours_only()})
    )
    return roster


def oncall_ctx(ctx: EscalationContext) -> OncallContext:
    return OncallContext(
        tz=WIB, escalation=ctx.rules, admin_chat_id=ctx.admin_chat_id, default_locale="en"
    )


async def page_at(db: asyncpg.Pool, ctx: EscalationContext, when: datetime) -> list[int]:
    mark = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
    await open_incident(
        db, FrozenClock(when), ctx, source="alert", title=f"down {when}", priority="P0"
    )
    return await private_pages(db, mark)


async def test_level_one_pages_the_schedule_and_a_gap_pages_level_two(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    # Tuesday 10:00: Eko's day (Sari had Monday), though Sari holds the old `/oncall set` slot.
    assert await page_at(desk, ctx, wib("2026-11-03 10:00")) == [EKO]
    # Tuesday 20:00: nobody on call for support: level 2 (Dewi, by her slot) is paged instead.
    assert await page_at(desk, ctx, wib("2026-11-03 20:00")) == [DEWI]


async def test_an_override_wins_and_only_an_admin_overrides_someone_else(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    octx = oncall_ctx(ctx)
    now = wib("2026-11-03 08:00")
    eko = await users.get(desk, EKO)
    sari = await users.get(desk, SARI)
    admin = await users.get(desk, ADMIN)
    assert eko and sari and admin
    # Sari may not give away Eko's Tuesday: refused, audited, nothing stored.
    with pytest.raises(NotAllowed):
        await actions.cover(
            desk, octx, sari, coverer=SARI, start=wib("2026-11-03 12:00"),
            end=wib("2026-11-03 14:00"), role=None, now=now, chat_id=SARI,
        )  # fmt: skip
    refused = await desk.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'oncall.override_others' AND NOT allowed"
    )
    assert refused == 1 and await desk.fetchval("SELECT count(*) FROM oncall_overrides") == 0
    # Eko may hand his own afternoon to Fajar; Adi (admin) may put Sari on his evening.
    await actions.cover(
        desk, octx, eko, coverer=FAJAR, start=wib("2026-11-03 12:00"),
        end=wib("2026-11-03 14:00"), role=None, now=now, chat_id=EKO,
    )  # fmt: skip
    await actions.cover(
        desk, octx, admin, coverer=SARI, start=wib("2026-11-03 18:00"),
        end=wib("2026-11-04 09:00"), role="support_engineer", now=now, chat_id=ADMIN,
    )  # fmt: skip
    # Past shifts are history.
    with pytest.raises(OncallError):
        await actions.cover(
            desk, octx, admin, coverer=SARI, start=wib("2026-11-02 10:00"),
            end=wib("2026-11-02 12:00"), role="support_engineer", now=now, chat_id=ADMIN,
        )  # fmt: skip
    assert await page_at(desk, ctx, wib("2026-11-03 12:30")) == [FAJAR]
    assert await page_at(desk, ctx, wib("2026-11-03 23:30")) == [SARI]  # the gap is filled


async def test_a_role_without_a_rotation_keeps_its_slot(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    assert await page_at(roster, ctx, wib("2026-11-03 20:00")) == [SARI]


@pytest.fixture
async def sms_hook() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    async with json_hook("/sms") as hook:
        yield hook.url, hook.got


async def test_an_unacknowledged_page_reaches_the_sms_webhook_an_acknowledged_one_does_not(
    desk: asyncpg.Pool, ctx: EscalationContext, sms_hook: tuple[str, list[dict[str, object]]]
) -> None:
    url, got = sms_hook
    sms = SmsChannel(url=url, timeout_s=2)
    await contacts.update_from_words(desk, EKO, ["sms", "+6281111111111", "5"], 10)
    octx = oncall_ctx(ctx)
    t0 = wib("2026-11-03 10:00")
    assert await page_at(desk, ctx, t0) == [EKO]  # QC-000001
    assert await page_at(desk, ctx, t0 + timedelta(minutes=1)) == [EKO]  # QC-000002
    eko = await users.get(desk, EKO)
    assert eko is not None
    await acknowledge(desk, FrozenClock(t0 + timedelta(minutes=2)), ctx, 2, eko)

    report = await scan_once(desk, octx, t0 + timedelta(minutes=4), t0, sms)
    assert report.followups == [] and got == []
    report = await scan_once(desk, octx, t0 + timedelta(minutes=6, seconds=30), t0, sms)
    assert len(report.followups) == 1
    assert [(g["to"], "QC-000001" in str(g["text"])) for g in got] == [(["+6281111111111"], True)]
    await scan_once(desk, octx, t0 + timedelta(minutes=30), t0, sms)
    assert len(got) == 1  # sent once; QC-000002 was acknowledged


async def test_quiet_hours_hold_back_the_second_channel_for_p2_only(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    await contacts.update_from_words(desk, EKO, ["sms", "+6281111111111", "5"], 10)
    await contacts.update_from_words(desk, EKO, ["quiet", "09:00-11:00"], 10)
    at = wib("2026-11-03 10:00")
    assert not await contacts.plan_followup(
        desk, user_id=EKO, ticket_id=1, priority="P2", level=1, at=at, tz=WIB
    )
    assert await contacts.plan_followup(
        desk, user_id=EKO, ticket_id=1, priority="P0", level=1, at=at, tz=WIB
    )


async def test_a_p2_page_in_quiet_hours_arrives_silently_a_p1_rings(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    await contacts.update_from_words(roster, DEWI, ["quiet", "22:00-07:00"], 10)
    admin = await users.get(roster, ADMIN)
    assert admin is not None
    night = FrozenClock(wib("2026-11-03 23:00"))
    for priority, number in (("P2", 1), ("P1", 2)):
        await open_incident(roster, night, ctx, source="alert", title="x", priority=priority)
        await escalate(roster, night, ctx, number, admin)  # level 2: Dewi is paged
    rows = await roster.fetch(
        "SELECT owner, payload FROM outbox WHERE chat_id = $1 ORDER BY id", DEWI
    )
    silent = {r["owner"]: "disable_notification" in str(r["payload"]) for r in rows}
    assert silent == {"incident:1": True, "incident:2": False}, silent


async def test_the_on_call_engineer_group_names_the_scheduled_senior(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    wawan = 2013
    await users.touch(roster, wawan, first_name="Wawan", username="wawan")
    await staff_roster.add_member(
        roster, user_id=wawan, display_name="Wawan", roles=[Role.SENIOR_ENGINEER], added_by=None
    )
    layer = LayerSpec(members=[wawan], shift="weekly", handoff="monday 09:00")
    await store.sync_rules(
        roster, OncallRules(rotations={Role.SENIOR_ENGINEER: RotationSpec(layers=[layer])})
    )
    await open_incident(
        roster, FrozenClock(wib("2026-11-03 10:00")), ctx, source="alert", title="slow",
        priority="P1",
    )  # fmt: skip
    notices = await roster.fetch(
        "SELECT payload->>'text' AS text FROM outbox WHERE chat_id = $1", ctx.admin_chat_id
    )
    text = "\n".join(r["text"] for r in notices)
    assert "Wawan" in text and "Dewi" not in text, text


async def test_a_rotation_switched_off_gives_the_role_back_to_its_slot(
    desk: asyncpg.Pool, ctx: EscalationContext
) -> None:
    assert await page_at(desk, ctx, wib("2026-11-03 10:00")) == [EKO]
    await store.save_rotation(
        desk, "support_engineer", None, effective_from=wib("2026-11-03 11:00"), by=ADMIN
    )
    assert await page_at(desk, ctx, wib("2026-11-03 12:00")) == [SARI]  # her slot again
    assert await page_at(desk, ctx, wib("2026-11-03 10:30")) == [EKO]  # history stays
