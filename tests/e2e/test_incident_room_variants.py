"""Incident rooms where the incidents chat is not as expected, and after accidents:

- the incidents chat has no topics: the room is one pinned card, its lines replying to it, and
  a reply to the card is a command in the room;
- INCIDENT_CHAT_ID is unset: the room lives in the admin chat;
- somebody deletes the room's topic: the next change recreates it, summary pinned again;
- the bot restarts: the summary is edited in place, never posted a second time.
"""

from __future__ import annotations

from sandbox.telegram.client import Json
from tests.cast import ADMIN
from tests.e2e.conftest import World
from tests.e2e.rooms_world import (
    MAYA,
    says,
    start_in_incidents_chat,
    start_rooms,
)
from tests.waiting import eventually


async def open_incident(world: World) -> None:
    answer = await says(world, ADMIN, world.admin_chat_id, "/incident P1 Payments failing")
    assert "QC-000001" in answer["text"], answer["text"]


async def summaries(world: World, chat_id: int, thread: int | None = None) -> list[Json]:
    return [
        m
        for m in await world.tg.messages(chat_id, thread, include_deleted=True)
        if m["from"].get("is_bot")
        and (m.get("text") or "").startswith(("🚨", "👀", "✅"))
        and "QC-000001" in m["text"].split("\n")[0]
    ]


async def pinned_summary(world: World, chat_id: int, thread: int | None = None) -> Json:
    async def found() -> Json | None:
        live = [m for m in await summaries(world, chat_id, thread) if not m["deleted"]]
        return next((m for m in live if m.get("pinned")), None)

    message: Json = await eventually("a pinned summary", found)
    return message


async def test_a_chat_without_topics_gets_one_pinned_card_with_threaded_replies(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id = await start_in_incidents_chat(world, forum=False)
    await open_incident(world)
    card = await pinned_summary(world, chat_id)
    assert "P1" in card["text"] and "Payments failing" in card["text"], card["text"]
    assert await world.tg.topics(chat_id) == []
    # A reply to the card is a command in the room.
    answer = await says(world, MAYA, chat_id, "/lead", reply_to=card["message_id"])
    assert "Maya" in answer["text"], answer["text"]
    await world.send(
        MAYA, "/update Rolling back the release", chat_id=chat_id, reply_to=card["message_id"]
    )
    # the update's own line (the pinned summary, edited, quotes the update too)
    line = await world.tg.wait_for_message(
        chat_id,
        predicate=lambda m: (
            "Rolling back the release" in m.get("text", "")
            and m["message_id"] != card["message_id"]
        ),
    )
    assert line["reply_to_message"]["message_id"] == card["message_id"]
    await world.tg.wait_for_edit(
        chat_id, card["message_id"], predicate=lambda m: "Rolling back" in m["text"]
    )
    assert [m["message_id"] for m in await summaries(world, chat_id)] == [card["message_id"]]
    mode = await world.pool.fetchval("SELECT mode FROM incident_rooms WHERE ticket_id = 1")
    assert mode == "thread"
    # /update anywhere else in the chat is told where it works; nothing is recorded.
    answer = await says(world, MAYA, chat_id, "/update <b>not here</b> & " + "x" * 4900)
    assert "/update" in answer["text"] and "room" in answer["text"], answer["text"]
    assert (
        await world.pool.fetchval("SELECT count(*) FROM ticket_events WHERE kind = 'room_update'")
        == 1
    )
    # A customer who found the chat may not lead: refused, and recorded.
    await world.tg.create_user(1001, first_name="Budi", language_code="id")
    refused = await says(world, 1001, chat_id, "/lead", reply_to=card["message_id"])
    assert "dicatat" in refused["text"], refused["text"]
    assert (
        await world.pool.fetchval(
            "SELECT count(*) FROM audit_log"
            " WHERE action = 'room.lead' AND NOT allowed AND actor_id = 1001"
        )
        == 1
    )


async def test_without_an_incidents_chat_the_room_is_in_the_admin_chat(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    await start_rooms(world, None)
    await open_incident(world)
    card = await pinned_summary(world, world.admin_chat_id)
    answer = await says(world, MAYA, world.admin_chat_id, "/lead", reply_to=card["message_id"])
    assert "Maya" in answer["text"], answer["text"]
    await world.tg.wait_for_edit(
        world.admin_chat_id, card["message_id"], predicate=lambda m: "Lead: Maya" in m["text"]
    )
    room = await world.pool.fetchrow("SELECT chat_id, lead_id FROM incident_rooms")
    assert room is not None
    assert (room["chat_id"], room["lead_id"]) == (world.admin_chat_id, MAYA)


async def test_what_a_room_cannot_do_is_answered_with_the_reason(world_unstarted: World) -> None:
    """A room's expected errors are answered by the rooms router (handlers.refusals.answers):
    a follow-up number that is not open, a lead the bot has never met."""
    world = world_unstarted
    await start_rooms(world, None)
    await open_incident(world)
    card = await pinned_summary(world, world.admin_chat_id)
    no_such = await says(world, MAYA, world.admin_chat_id, "/followup done 999")
    assert no_such["text"] == "Tidak ada follow-up terbuka dengan nomor itu.", no_such
    stranger = await says(
        world, MAYA, world.admin_chat_id, "/lead @nobody_here", reply_to=card["message_id"]
    )
    assert stranger["text"].startswith("Saya tidak kenal @nobody_here"), stranger
    room = await world.pool.fetchrow("SELECT lead_id FROM incident_rooms")
    assert room is not None and room["lead_id"] is None


async def test_a_deleted_topic_is_recreated_with_its_summary(world_unstarted: World) -> None:
    world = world_unstarted
    chat_id = await start_in_incidents_chat(world)
    await open_incident(world)
    first = await eventually("the room's topic", lambda: world.tg.topics(chat_id))
    old_thread = first[0]["message_thread_id"]
    await pinned_summary(world, chat_id, old_thread)
    await world.tg.delete_topic(chat_id, old_thread)
    # Rina names the lead from the admin chat: the summary's edit finds its topic gone.
    answer = await says(world, ADMIN, world.admin_chat_id, "/lead QC-000001 @maya")
    assert "Maya" in answer["text"], answer["text"]

    async def new_topic() -> Json | None:
        live = [t for t in await world.tg.topics(chat_id) if not t.get("deleted")]
        return next((t for t in live if t["message_thread_id"] != old_thread), None)

    topic = await eventually("a new topic", new_topic)
    assert topic["name"] == "QC-000001 · P1 · Payments failing"
    summary = await pinned_summary(world, chat_id, topic["message_thread_id"])
    assert "Lead: Maya" in summary["text"], summary["text"]
    await world.tg.wait_for_message(
        chat_id, thread_id=topic["message_thread_id"],
        predicate=lambda m: "terhapus" in m.get("text", ""),
    )  # fmt: skip
    kinds = await world.pool.fetch("SELECT kind FROM ticket_events ORDER BY id")
    assert "room_recreated" in [k["kind"] for k in kinds]


async def test_after_a_restart_the_summary_is_edited_not_posted_again(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id = await start_in_incidents_chat(world)
    await open_incident(world)
    topics = await eventually("the room's topic", lambda: world.tg.topics(chat_id))
    thread = topics[0]["message_thread_id"]
    summary = await pinned_summary(world, chat_id, thread)
    await world.restart_bot()
    await world.send(MAYA, "/update Still investigating", chat_id=chat_id, thread_id=thread)
    await world.tg.wait_for_edit(
        chat_id, summary["message_id"], predicate=lambda m: "Still investigating" in m["text"]
    )
    assert [m["message_id"] for m in await summaries(world, chat_id, thread)] == [
        summary["message_id"]
    ]
    assert len(await world.tg.topics(chat_id)) == 1
