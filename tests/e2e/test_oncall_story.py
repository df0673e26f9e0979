"""On-call schedules end to end (issue 17), on a frozen clock in Asia/Jakarta.

Sari and Eko share the support rotation from RULES_FILE (weekly, Monday 09:00 handoff); it is
Sari's week. On Tuesday afternoon Sari asks Dimas to cover her evening; at 20:00 a P0 opens and
the page goes to Dimas, not Sari. Dimas chose SMS after 10 minutes unacknowledged, so at 20:10
the SMS webhook stand-in gets it. On Monday at 09:00 the handoff: Eko gets the open incident,
Sari a thank-you, the admin chat one line. Sari's calendar link serves eight weeks of shifts; a
wrong token gets 404 and nothing else. Sari may not edit the rotation nor take Eko's shift; both
attempts are refused and audited. Rina (admin) edits the rotation with a preview and Save.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from icalendar import Calendar

from sandbox.telegram.client import Json
from services.clock import Clock, FrozenClock
from services.rules import Rules
from tests.cast import ADMIN
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_escalation_story import admin_says, datas, has_buttons, press, put_on_roster
from tests.net import json_hook
from tests.waiting import eventually

WIB = ZoneInfo("Asia/Jakarta")
SARI, EKO, DIMAS = 2101, 2102, 2103
T0 = datetime(2026, 11, 3, 14, 0, tzinfo=WIB).astimezone(UTC)  # Tuesday 14:00 WIB


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB).astimezone(UTC)


@pytest.fixture
def e2e_clock() -> Clock:
    return FrozenClock(T0)


@pytest.fixture
async def sms_hook() -> AsyncIterator[tuple[str, list[Json]]]:
    """The SMS provider's webhook, a local stand-in that records what it is sent."""
    async with json_hook("/sms", status=202) as hook:
        yield hook.url, hook.got


@pytest.fixture
def e2e_rules(sms_hook: tuple[str, list[Json]]) -> Rules:
    return fast_rules(
        oncall={
            "scan_seconds": 0.1,
            "rotations": {
                "support_engineer": {
                    "layers": [
                        {
                            "members": [SARI, EKO],
                            "shift": "weekly",
                            "handoff": "monday 09:00",
                            "start": "2026-11-02",
                        }
                    ]
                }
            },
        },
        alerts={"channels": {"sms": {"url": sms_hook[0], "timeout_s": 2}}},
    )


async def says(world: World, user: int, text: str) -> Json:
    """A person writes to the bot privately; the bot's answer."""
    sent = await world.send(user, text)
    answer: Json = await world.reply_to(user, after=sent["message_id"])
    return answer


async def cast(world: World) -> None:
    for user_id, name in ((SARI, "Sari"), (EKO, "Eko"), (DIMAS, "Dimas")):
        await world.tg.create_user(
            user_id, first_name=name, username=name.lower(), language_code="id"
        )
        await put_on_roster(world, user_id, name, "support_engineer")


async def test_dimas_covers_sari_the_p0_pages_dimas_then_sms_then_handoff(
    world: World, sms_hook: tuple[str, list[Json]]
) -> None:
    clock = world.frozen_clock
    await cast(world)

    board = await admin_says(world, "/oncall")
    assert "Level 1, Support Engineer: Sari sampai Sen 09.11 09:00" in board["text"], board["text"]
    assert "berikutnya: Eko" in board["text"], board["text"]

    # Dimas is reached by SMS after 10 minutes unacknowledged.
    notify = await says(world, DIMAS, "/oncall notify sms +6281234567890 10")
    assert "+6281234567890" in notify["text"] and "10 menit" in notify["text"], notify["text"]

    # Sari hands her evening to Dimas (across midnight).
    covered = await says(world, SARI, "/oncall cover @dimas selasa 18:00 rabu 09:00")
    assert "Dimas menggantikan Sari" in covered["text"], covered["text"]
    told = await world.tg.wait_for_message(DIMAS, predicate=lambda m: "menggantikan" in m["text"])
    assert "Sel 03.11 18:00" in told["text"] and "Rab 04.11 09:00" in told["text"], told["text"]
    later = await says(world, EKO, "/oncall at rabu 02:00")
    assert "On-call pada Rab 04.11 02:00" in later["text"], later["text"]
    assert "Support Engineer: Dimas sampai Rab 04.11 09:00 (override)" in later["text"]
    me = await says(world, DIMAS, "/oncall me")
    assert "Sel 03.11 18:00 – Rab 04.11 09:00" in me["text"], me["text"]

    # 20:00: a P0. Level 1 is paged: Dimas, not Sari.
    clock.set(wib("2026-11-03 20:00"))
    opened = await admin_says(world, "/incident P0 Payment gateway down")
    assert "QC-000001" in opened["text"], opened["text"]
    page = await world.tg.wait_for_message(DIMAS, predicate=has_buttons("inc:1:ack:1"))
    assert "Payment gateway down" in page["text"]
    paged = await world.pool.fetch(
        "SELECT DISTINCT chat_id FROM outbox WHERE owner LIKE 'incident:%' AND chat_id > 0"
    )
    assert {r["chat_id"] for r in paged} == {DIMAS}
    assert not [m for m in await world.tg.messages(SARI) if "inc:1:ack:1" in datas(m)]

    # Unacknowledged for 10 minutes: the SMS webhook gets it, at Dimas's number.
    clock.set(wib("2026-11-03 20:09"))
    await settle()
    assert sms_hook[1] == []
    clock.set(wib("2026-11-03 20:10:30"))
    sms = await eventually("the SMS", lambda: _first(sms_hook[1]))
    assert sms["to"] == ["+6281234567890"] and "QC-000001" in sms["text"], sms

    # Monday 08:59: no handoff yet; 09:00 the handoff messages arrive.
    clock.set(wib("2026-11-09 08:59"))
    await settle()
    assert not await _handoff_told(world)
    clock.set(wib("2026-11-09 09:00:01"))
    incoming = await world.tg.wait_for_message(EKO, predicate=lambda m: "📟" in m["text"])
    assert "Kamu on-call sebagai Support Engineer" in incoming["text"], incoming["text"]
    assert "QC-000001" in incoming["text"] and "Diserahkan oleh Sari" in incoming["text"]
    outgoing = await world.tg.wait_for_message(
        SARI, predicate=lambda m: "Terima kasih" in m["text"]
    )
    assert "Eko" in outgoing["text"], outgoing["text"]
    line = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "📟 Support Engineer" in m["text"]
    )
    assert "Sari → Eko" in line["text"], line["text"]

    # Told once, however many scans run.
    clock.set(wib("2026-11-09 09:05"))
    await settle()
    assert len([m for m in await world.tg.messages(EKO) if "📟" in m["text"]]) == 1


async def _first(found: list[Json]) -> Json | None:
    return found[0] if found else None


async def _handoff_told(world: World) -> bool:
    return bool(
        await world.pool.fetchval("SELECT count(*) FROM oncall_events WHERE kind = 'handoff'")
    )


async def settle() -> None:
    """Nothing is expected to happen: give the worker (scanning every 0.1 s) a few scans."""
    await asyncio.sleep(0.5)


async def test_the_calendar_lists_eight_weeks_and_a_wrong_token_gets_nothing(world: World) -> None:
    await cast(world)
    link = await says(world, SARI, "/oncall calendar")
    url = next(w for w in link["text"].split() if "/oncall/" in w and w.endswith(".ics"))
    path = url[url.index("/oncall/") :]
    async with aiohttp.ClientSession() as http:
        async with http.get(world.http_base + path) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/calendar")
            body = await response.read()
        async with http.get(world.http_base + "/oncall/" + "x" * 32 + ".ics") as wrong:
            assert wrong.status == 404
            assert b"VCALENDAR" not in await wrong.read()
        token = path.removeprefix("/oncall/").removesuffix(".ics")
        forged = token[:-1] + ("B" if token.endswith("A") else "A")
        async with http.get(f"{world.http_base}/oncall/{forged}.ics") as response:
            assert response.status == 404

    calendar = Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    starts = sorted(e.decoded("DTSTART") for e in events)
    # Sari's weeks alternate with Eko's: her running week, then every other week for 8 weeks.
    assert starts == [
        wib(f"2026-{day} 09:00") for day in ("11-02", "11-16", "11-30", "12-14", "12-28")
    ]
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(weeks=1) for e in events)
    assert all("Support Engineer" in str(e["SUMMARY"]) for e in events)

    # Asked in the admin chat, the links go to Sari privately, never into the group.
    sent = await world.send(SARI, "/oncall calendar", chat_id=world.admin_chat_id)
    answer = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    assert "pribadi" in answer["text"] and ".ics" not in answer["text"], answer["text"]
    private = await world.tg.wait_for_message(
        SARI, after_message_id=link["message_id"], predicate=lambda m: ".ics" in m["text"]
    )
    assert path in private["text"]

    # Revoked: the same link now gets 404.
    reset = await says(world, SARI, "/oncall calendar reset")
    assert "dicabut" in reset["text"], reset["text"]
    async with aiohttp.ClientSession() as http, http.get(world.http_base + path) as response:
        assert response.status == 404


async def test_a_person_without_the_role_is_refused_and_audited_an_admin_edits(
    world: World,
) -> None:
    await cast(world)
    refused = await says(world, SARI, "/rotation set support_engineer weekly mon 09:00 @sari")
    assert "tercatat" in refused["text"] or "dicatat" in refused["text"], refused["text"]
    # Eko's week (next week) is not Sari's to give away.
    taken = await says(world, SARI, "/oncall cover me 2026-11-10 10:00 2026-11-10 12:00")
    assert "dicatat" in taken["text"] or "tercatat" in taken["text"], taken["text"]
    rows = await world.pool.fetch(
        "SELECT action, actor_id FROM audit_log WHERE NOT allowed ORDER BY id"
    )
    assert [(r["action"], r["actor_id"]) for r in rows] == [
        ("oncall.rotation", SARI),
        ("oncall.override_others", SARI),
    ]
    assert await world.pool.fetchval("SELECT count(*) FROM oncall_overrides") == 0

    # Rina sets a daily rotation: a preview of four shifts, saved with a button.
    preview = await admin_says_markup(
        world, "/rotation set support_engineer daily 09:00 @eko @dimas @sari"
    )
    assert "Empat shift berikutnya" in preview["text"], preview["text"]
    lines = [x for x in preview["text"].splitlines() if x.startswith("• ") and "–" in x]
    assert len(lines) == 4 and "Eko" in lines[0] and "Dimas" in lines[1], lines
    save = next(d for d in datas(preview) if d.endswith(":save"))
    assert (
        await world.pool.fetchval("SELECT count(*) FROM oncall_rotations WHERE source = 'chat'")
        == 0
    )
    await press(world, ADMIN, world.admin_chat_id, preview, save)
    await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "Tersimpan" in m["text"]
    )
    board = await admin_says(world, "/oncall")
    assert "Support Engineer: Eko sampai Rab 04.11 09:00" in board["text"], board["text"]
    told = await world.tg.wait_for_message(SARI, predicate=lambda m: "Rotasi" in m["text"])
    assert "Rina" in told["text"]
    # A second press of the same Save changes nothing more.
    query = await world.tg.press(
        ADMIN, world.admin_chat_id, preview["message_id"], save, force=True
    )  # a stale button, pressed again (a second tap, a retried update)
    again = await world.tg.callback_answer(query)
    assert "sudah disimpan" in again["text"], again
    assert (
        await world.pool.fetchval("SELECT count(*) FROM oncall_rotations WHERE source = 'chat'")
        == 1
    )


async def admin_says_markup(world: World, text: str) -> Json:
    sent = await world.send(ADMIN, text, chat_id=world.admin_chat_id)
    answer: Json = await world.tg.wait_for_message(
        world.admin_chat_id, after_message_id=sent["message_id"]
    )
    return answer


async def test_sari_hands_a_later_week_to_dimas_with_buttons(world: World) -> None:
    await cast(world)
    sent = await world.send(SARI, "/oncall cover")
    which = await world.reply_to(SARI, after=sent["message_id"])
    assert which["text"] == "Shift mana yang perlu digantikan?", which["text"]
    labels = [row[0]["text"] for row in which["reply_markup"]["inline_keyboard"]]
    assert labels[0].startswith("Sel 03.11 14:00 – Sen 09.11 09:00"), labels  # from now on
    week = labels.index("Sen 16.11 09:00 – Sen 23.11 09:00 · Support Engineer")
    data = which["reply_markup"]["inline_keyboard"][week][0]["callback_data"]
    await press(world, SARI, SARI, which, data)
    who = await world.tg.wait_for_message(
        SARI, after_message_id=which["message_id"], predicate=lambda m: "Siapa" in m["text"]
    )
    names = [row[0]["text"] for row in who["reply_markup"]["inline_keyboard"]]
    assert sorted(names) == ["Dimas", "Eko"], names
    dimas = next(
        row[0]["callback_data"]
        for row in who["reply_markup"]["inline_keyboard"]
        if row[0]["text"] == "Dimas"
    )
    await press(world, SARI, SARI, who, dimas)
    done = await world.tg.wait_for_message(
        SARI, after_message_id=who["message_id"], predicate=lambda m: "menggantikan" in m["text"]
    )
    assert "Dimas menggantikan Sari" in done["text"] and "Sen 16.11 09:00" in done["text"]
    board = await says(world, EKO, "/oncall at 2026-11-17 12:00")
    assert "Support Engineer: Dimas sampai Sen 23.11 09:00 (override)" in board["text"]
