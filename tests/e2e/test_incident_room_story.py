"""The incident room, end to end (emulator + a frozen clock the story moves):

Alertmanager reports PaymentErrors; Rina presses Escalate, and QC-000001 opens with a topic
`QC-000001 · P0 · Alert PaymentErrors` in the incidents chat, its live summary pinned there.
Sari (level 1, paged) acknowledges from her page and gets the room's link; Maya takes the lead
with /lead in the room; two updates; a 📌 on a room message; then nobody writes for the P0's 30
minutes and Maya is reminded, once; Maya resolves from the admin chat's notice, and the
postmortem draft arrives in the room, as a message and as Markdown and HTML documents, its
timeline line for line the stored events, its MTTA and MTTR those events' differences.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.monitor import MonitorConfig
from sandbox.telegram.client import Json
from services.clock import FrozenClock
from services.escalation.queries import describe
from services.escalation.render import when
from services.i18n import use_locale
from services.postmortem.render import duration
from services.tickets import briefs as tickets
from tests.cast import ADMIN
from tests.e2e.buttons import datas, press
from tests.e2e.conftest import World
from tests.e2e.rooms_world import (
    MAYA,
    SARI,
    T0,
    TOKEN,
    download,
    escalate_an_alert,
    incidents_chat,
    says,
    start_rooms,
)
from tests.waiting import eventually

TZ = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(T0)


async def start(world: World, *, forum: bool = True, incident_chat: bool = True) -> int:
    chat_id = await incidents_chat(world, forum=forum) if incident_chat else world.admin_chat_id
    world.monitor = MonitorConfig(probe_interval=24 * 3600, tick_interval=0.2)
    await start_rooms(world, chat_id if incident_chat else None, ALERTMANAGER_TOKEN=TOKEN)
    await says(world, ADMIN, world.admin_chat_id, f"/oncall set support_engineer {SARI}")
    return chat_id


async def room_topic(world: World, chat_id: int) -> Json:
    async def found() -> Json | None:
        topics = await world.tg.topics(chat_id)
        return next((t for t in topics if t["name"].startswith("QC-000001")), None)

    topic: Json = await eventually("the room's topic", found)
    return topic


def section(markdown: str, heading_start: str) -> list[str]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## " + heading_start))
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("- "):
            body.append(line[2:])
    return body


async def test_an_escalated_alert_gets_a_room_that_writes_its_own_postmortem(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id = await start(world)
    clock = world.frozen_clock
    await escalate_an_alert(world)

    # The room: a topic named after the incident, its summary pinned in it.
    topic = await room_topic(world, chat_id)
    assert topic["name"] == "QC-000001 · P0 · Alert PaymentErrors", topic
    thread = topic["message_thread_id"]
    summary = await world.tg.wait_for_message(
        chat_id, thread_id=thread, predicate=lambda m: "QC-000001" in m.get("text", "")
    )
    await eventually(
        "the summary pinned",
        lambda: world.tg.messages(chat_id, thread),
    )

    async def pinned() -> bool:
        found = await world.tg.messages(chat_id, thread)
        return any(m["message_id"] == summary["message_id"] and m["pinned"] for m in found)

    await eventually("the summary pinned", pinned)
    text = summary["text"]
    assert "Status: terbuka, belum diterima" in text, text
    assert "Lead: belum ada" in text or "Lead:" in text, text
    assert "P0" in text and "PaymentErrors" in text and "Sari" in text, text

    # Sari, paged at level 1, finds the room's link in her page, and acknowledges from it.
    def room_button(m: Json) -> str | None:
        rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
        return next((b["url"] for row in rows for b in row if "t.me/c/" in b.get("url", "")), None)

    page = await world.tg.wait_for_message(SARI, predicate=lambda m: "inc:1:ack:1" in datas(m))
    page = await world.tg.wait_for_edit(SARI, page["message_id"], predicate=room_button)
    assert room_button(page) == f"https://t.me/c/{str(chat_id)[4:]}/{thread}", page
    clock.set(T0 + timedelta(minutes=2))
    await press(world, SARI, SARI, page, "inc:1:ack:1")

    # Maya takes the lead in the room; the summary says so (edited, not posted again).
    clock.set(T0 + timedelta(minutes=3))
    answer = await says(world, MAYA, chat_id, "/lead", thread_id=thread)
    assert "Maya" in answer["text"], answer["text"]
    await world.tg.wait_for_edit(
        chat_id, summary["message_id"], predicate=lambda m: "Maya" in m["text"].split("\n")[3]
    )
    # ...and so does the incident's card in the admin chat.
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:res:1" in datas(m)
    )
    await world.tg.wait_for_edit(
        world.admin_chat_id, notice["message_id"], predicate=lambda m: "Lead: Maya" in m["text"]
    )

    # Two updates; a room message marked with 📌.
    clock.set(T0 + timedelta(minutes=5))
    await world.send(MAYA, "/update Gateway errors at 40%, failing over to the backup <route>",
                     chat_id=chat_id, thread_id=thread)  # fmt: skip
    said = await world.send(SARI, "Pakasir confirms an outage on their side", chat_id=chat_id,
                            thread_id=thread)  # fmt: skip
    clock.set(T0 + timedelta(minutes=10))
    await world.send(MAYA, "/update Failover done, errors back under 1%", chat_id=chat_id,
                     thread_id=thread)  # fmt: skip
    edited = await world.tg.wait_for_edit(
        chat_id, summary["message_id"], predicate=lambda m: "under 1%" in m["text"]
    )
    assert "backup &lt;route&gt;" not in edited["text"]  # the latest update only
    await eventually(
        "Sari's message kept",
        lambda: world.pool.fetchval(
            "SELECT count(*) FROM incident_room_messages WHERE message_id = $1",
            said["message_id"],
        ),
    )
    await world.tg.react(MAYA, chat_id, said["message_id"], "📌")
    await eventually(
        "the 📌 on the timeline",
        lambda: world.pool.fetchval("SELECT count(*) FROM ticket_events WHERE kind = 'room_note'"),
    )

    # Nothing for 30 minutes after the last update: Maya is reminded once.
    clock.set(T0 + timedelta(minutes=40, seconds=1))

    async def reminders() -> list[Json]:
        return [m for m in await world.tg.messages(MAYA) if "⏰" in m.get("text", "")]

    await eventually("Maya's reminder", reminders)
    clock.set(T0 + timedelta(minutes=42))
    await eventually(
        "another rooms tick",
        lambda: world.pool.fetchval(
            "SELECT count(*) = 1 FROM ticket_events WHERE kind = 'room_reminder'"
        ),
    )
    for _ in range(5):  # the worker ticks every 0.1 s: give it time to remind twice, if it would
        await world.tg.messages(MAYA)
    assert len(await reminders()) == 1

    # Maya resolves from the admin chat's notice: the postmortem draft arrives in the room.
    clock.set(T0 + timedelta(minutes=45))
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:res:1" in datas(m)
    )
    answer = await press(world, MAYA, world.admin_chat_id, notice, "inc:1:res:1")
    assert "QC-000001" in answer["text"], answer
    draft = await world.tg.wait_for_message(
        chat_id, thread_id=thread, predicate=lambda m: "📝" in m.get("text", ""), timeout=15
    )
    assert "Draf postmortem: QC-000001 · P0 · Alert PaymentErrors" in draft["text"], draft["text"]
    docs = await eventually(
        "the two documents",
        lambda: _documents(world, chat_id, thread),
    )
    names = sorted(d["document"]["file_name"] for d in docs)
    assert names == ["postmortem-QC-000001.html", "postmortem-QC-000001.md"], names
    md_doc = next(d for d in docs if d["document"]["file_name"].endswith(".md"))
    markdown = (await download(world, md_doc["document"])).decode()
    html_doc = next(d for d in docs if d["document"]["file_name"].endswith(".html"))
    page_html = (await download(world, html_doc["document"])).decode()
    assert "<!doctype html>" in page_html and "PaymentErrors" in page_html

    # The timeline, line for line what was stored; MTTA and MTTR from those same events.
    events = await tickets.events(world.pool, 1)
    with use_locale("id"):
        expected = [
            f"{when(e.at, TZ)}  {describe(e.kind, e.actor_name, e.details)}" for e in events
        ]
        timeline = section(markdown, "Linimasa")
        assert timeline == expected
        opened = next(e.at for e in events if e.kind == "incident_opened")
        acked = next(e.at for e in events if e.kind == "incident_acknowledged")
        resolved = next(e.at for e in events if e.kind == "incident_resolved")
        assert (acked, resolved) == (T0 + timedelta(minutes=2), T0 + timedelta(minutes=45))
        assert duration((acked - opened).total_seconds()) in markdown
        assert duration((resolved - opened).total_seconds()) in markdown
    kinds = [e.kind for e in events]
    for kind in ("incident_opened", "incident_notified", "incident_acknowledged",
                 "alert_firing", "room_lead", "room_update", "room_note", "room_reminder",
                 "incident_resolved"):  # fmt: skip
        assert kind in kinds, (kind, kinds)
    assert kinds.count("room_update") == 2
    assert any("Pakasir confirms an outage" in line for line in timeline)
    # Exactly one summary in the topic, edited all along.
    bot_summaries = [
        m
        for m in await world.tg.messages(chat_id, thread)
        if m["from"]["id"] != SARI and m.get("pinned")
    ]
    assert [m["message_id"] for m in bot_summaries] == [summary["message_id"]]
    audited = await world.pool.fetch(
        "SELECT action FROM audit_log WHERE allowed AND action LIKE 'room.%' ORDER BY id"
    )
    assert [r["action"] for r in audited] == ["room.lead", "room.update", "room.update",
                                                "room.note"]  # fmt: skip


async def _documents(world: World, chat_id: int, thread: int) -> list[Json] | None:
    found = [m for m in await world.tg.messages(chat_id, thread) if m.get("document")]
    return found if len(found) >= 2 else None
