"""The emergency line in the domain: an SOS pages every level at once, is stored before anyone
is paged, pages everyone again every five minutes until acknowledged, and a provider's retry
is the same call."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services import audit
from services.alerts.config import SecondaryChannels, SmsChannel
from services.clock import FrozenClock
from services.escalation import emergency, emergency_breach, store, store_emergency
from services.escalation.context import EscalationContext
from services.escalation.incidents import acknowledge, resolve
from services.escalation.store_emergency import EmergencyCall
from services.staff import NotAllowed
from tests.cast import ADMIN, BUDI, SARI, person
from tests.net import json_hook

from .conftest import ADMIN_CHAT, AGUS, DEWI, MAYA, TONO, last_outbox_id, private_pages

EVERY_LEVEL = [SARI, DEWI, TONO, MAYA, AGUS]


def sos(text: str = "Checkout returns 500 for everyone", **kw: object) -> EmergencyCall:
    return EmergencyCall(source="sos", caller="Adi", message=text, caller_id=ADMIN, **kw)  # type: ignore[arg-type]


async def test_an_sos_pages_all_five_levels_at_once_and_targets_thirty_minutes(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    outcome = await emergency.raise_emergency(
        roster, clock, ctx, sos(), actor=await person(roster, ADMIN), chat_id=-5
    )
    assert outcome.levels == 5
    assert sorted(outcome.paged) == sorted(EVERY_LEVEL)
    assert sorted(set(await private_pages(roster))) == sorted(EVERY_LEVEL)
    incident = await store.get(roster, outcome.ticket_id)
    assert incident is not None and (incident.priority, incident.source) == ("P0", "emergency")
    ticket = await roster.fetchrow(
        "SELECT created_at, resolution_due, subject FROM tickets WHERE id = $1", outcome.ticket_id
    )
    assert ticket["resolution_due"] - ticket["created_at"] == timedelta(minutes=30)
    assert ticket["subject"] == "SOS Adi: Checkout returns 500 for everyone"
    call = await roster.fetchrow("SELECT * FROM emergency_calls")
    assert (call["source"], call["caller_id"], call["ticket_id"]) == ("sos", ADMIN, 1)
    assert call["next_page_at"] == clock.now() + timedelta(minutes=5)
    done = await audit.entries_since(
        roster, clock.now() - timedelta(days=1), action_prefix="emergency"
    )
    assert [(e.action, e.allowed, e.target) for e in done] == [("emergency.sos", True, "QC-000001")]


async def test_nobody_acknowledges_so_every_level_is_paged_again_every_five_minutes(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    outcome = await emergency.raise_emergency(roster, clock, ctx, sos())
    mark = await last_outbox_id(roster)
    clock.advance(minutes=4)
    assert await emergency.repeat_due(roster, clock, ctx) == []
    clock.advance(minutes=1)
    assert await emergency.repeat_due(roster, clock, ctx) == [outcome.ticket_id]
    assert sorted(await private_pages(roster, mark)) == sorted(EVERY_LEVEL)

    # Dewi acknowledges: the next round pages nobody and the repeats stop.
    await acknowledge(roster, clock, ctx, outcome.ticket_id, await person(roster, DEWI))
    mark = await last_outbox_id(roster)
    clock.advance(minutes=5)
    assert await emergency.repeat_due(roster, clock, ctx) == []
    assert await private_pages(roster, mark) == []
    assert await roster.fetchval("SELECT next_page_at FROM emergency_calls") is None
    assert await store_emergency.earliest_repeat(roster) is None


async def test_a_provider_retry_is_the_same_call(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    call = EmergencyCall(
        source="webhook", caller="+6281200000000", message="site down", provider_ref="CA123"
    )
    first = await emergency.raise_emergency(roster, clock, ctx, call)
    mark = await last_outbox_id(roster)
    again = await emergency.raise_emergency(roster, clock, ctx, call)
    assert (again.ticket_id, again.duplicate, first.duplicate) == (first.ticket_id, True, False)
    assert await private_pages(roster, mark) == []
    assert await roster.fetchval("SELECT count(*) FROM emergency_calls") == 1


async def test_a_customer_may_not_sound_the_alarm(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    with pytest.raises(NotAllowed):
        await emergency.raise_emergency(roster, clock, ctx, sos(), actor=await person(roster, BUDI))
    assert await roster.fetchval("SELECT count(*) FROM emergency_calls") == 0
    refused = await audit.entries_since(
        roster, clock.now() - timedelta(days=1), action_prefix="emergency", allowed=False
    )
    assert [e.actor_id for e in refused] == [BUDI]


async def test_the_sms_channel_is_paged_too_and_its_failure_is_on_the_timeline(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    """A local HTTP server stands in for the SMS provider (RULES_FILE alerts.channels.sms)."""
    async with json_hook("/sms") as hook:
        received = hook.got
        channels = SecondaryChannels(sms=SmsChannel(url=hook.url, recipients=["+62811000111"]))
        clock = FrozenClock()
        first = await emergency.raise_emergency(roster, clock, ctx, sos(), channels=channels)
        assert received == [
            {
                "to": ["+62811000111"],
                "text": "SOS QC-000001: Checkout returns 500 for everyone (Adi)",
            }
        ]
        hook.status = 500
        second = await emergency.raise_emergency(
            roster, clock, ctx, sos("Database gone"), channels=channels
        )
        events = await roster.fetch(
            "SELECT ticket_id, details FROM ticket_events WHERE kind = 'emergency_sms' ORDER BY id"
        )
        assert [(e["ticket_id"], e["details"]["ok"]) for e in events] == [
            (first.ticket_id, True),
            (second.ticket_id, False),
        ]
        assert len(second.paged) == 5  # Telegram pages went out all the same


async def test_unresolved_after_thirty_minutes_every_level_and_the_admin_chat_hear_once(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    outcome = await emergency.raise_emergency(roster, clock, ctx, sos())
    await acknowledge(roster, clock, ctx, outcome.ticket_id, await person(roster, DEWI))
    assert await store_emergency.earliest_breach(roster) == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=29)
    assert await emergency_breach.breaches_due(roster, clock, ctx) == []
    clock.advance(minutes=1)
    mark = await last_outbox_id(roster)
    assert await emergency_breach.breaches_due(roster, clock, ctx) == [outcome.ticket_id]
    told = await roster.fetch(
        "SELECT chat_id, payload->>'text' AS text FROM outbox WHERE id > $1 ORDER BY id", mark
    )
    assert sorted(r["chat_id"] for r in told) == sorted([*EVERY_LEVEL, ADMIN_CHAT])
    assert all("QC-000001 is not resolved after 30 minutes" in r["text"] for r in told)
    clock.advance(minutes=10)  # told once
    assert await emergency_breach.breaches_due(roster, clock, ctx) == []
    assert await store_emergency.earliest_breach(roster) is None


async def test_resolved_in_time_no_breach(roster: asyncpg.Pool, ctx: EscalationContext) -> None:
    clock = FrozenClock()
    outcome = await emergency.raise_emergency(roster, clock, ctx, sos())
    clock.advance(minutes=20)
    await resolve(roster, clock, ctx, outcome.ticket_id, await person(roster, DEWI))
    clock.advance(minutes=20)
    assert await emergency_breach.breaches_due(roster, clock, ctx) == []
    assert await store_emergency.earliest_breach(roster) is None
