"""An incident room of a customer-facing incident, end to end over the emulator: Maya's room
`/update` is offered to the affected customers; Sari (support engineer) may not send it
(refused, audited); Maya sends it once, Budi and Dedi get it once however often the button is
pressed; the summary counts the linked customers; resolving posts the postmortem draft and then
closes the room's topic, so Sari can no longer write there."""

from __future__ import annotations

import pytest

from sandbox.telegram.client import EmulatorError, Json
from tests.e2e.buttons import datas, press
from tests.e2e.conftest import ADMIN, BUDI, World
from tests.e2e.rooms_world import (
    MAYA,
    SARI,
    says,
    start_in_incidents_chat,
)
from tests.waiting import eventually

DEDI = 1003


async def start(world: World, user: int) -> None:
    sent = await world.send(user, "/start")
    await world.reply_to(user, after=sent["message_id"])


async def updates_to(world: World, user: int) -> list[Json]:
    return [m for m in await world.tg.messages(user) if "Back online via" in m.get("text", "")]


async def test_a_room_update_is_sent_to_the_customers_once_and_the_topic_closes_on_resolve(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id = await start_in_incidents_chat(world)
    await world.tg.create_user(DEDI, first_name="Dedi", language_code="id")
    for user in (BUDI, DEDI):
        await start(world, user)

    opened = await says(world, ADMIN, world.admin_chat_id, "/incident P1 Pakasir payments failing")
    assert "QC-000001" in opened["text"], opened["text"]
    await says(world, ADMIN, world.admin_chat_id, "/incident public QC-000001")
    for user, text in ((BUDI, "Pembayaran saya gagal terus"), (DEDI, "transaksi gagal")):
        sent = await world.send(user, text)
        await world.tg.wait_for_message(
            user, after_message_id=sent["message_id"], predicate=lambda m: bool(datas(m))
        )
    topics = await eventually("the room's topic", lambda: world.tg.topics(chat_id))
    thread = topics[0]["message_thread_id"]

    await world.send(MAYA, "/update Back online via the backup <gateway> & watching",
                     chat_id=chat_id, thread_id=thread)  # fmt: skip
    offer = await world.tg.wait_for_message(
        chat_id, thread_id=thread, predicate=lambda m: any(d.startswith("ro:") for d in datas(m))
    )
    assert "Back online via the backup <gateway> & watching" in offer["text"], offer["text"]
    send_data, internal_data = datas(offer)
    labels = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Kirim ke 2 pelanggan", "Internal saja"], labels

    # Sari may not write to customers: refused politely, recorded, nothing sent.
    refused = await press(world, SARI, chat_id, offer, send_data)
    assert "dicatat" in (refused.get("text") or ""), refused
    assert await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action = 'incident.update' "
        "AND NOT allowed", SARI,
    ) == 1  # fmt: skip

    answer = await press(world, MAYA, chat_id, offer, send_data)
    assert "(2)" in answer["text"], answer
    edited = await world.tg.wait_for_edit(
        chat_id, offer["message_id"], predicate=lambda m: "Dikirim ke 2 pelanggan" in m["text"]
    )
    assert "Maya" in edited["text"] and not datas(edited), edited
    for user in (BUDI, DEDI):
        await eventually(f"the update to {user}", lambda u=user: updates_to(world, u))
    # A second press (a stale keyboard, a double tap): answered, never a second fan-out.
    again = await world.tg.press(MAYA, chat_id, offer["message_id"], send_data, force=True)
    answer = await world.tg.callback_answer(again)
    assert "sudah mengirim" in answer["text"], answer
    late = await world.tg.press(SARI, chat_id, offer["message_id"], internal_data, force=True)
    assert "sudah mengirim" in (await world.tg.callback_answer(late))["text"]
    assert [len(await updates_to(world, u)) for u in (BUDI, DEDI)] == [1, 1]
    assert await world.pool.fetchval("SELECT count(*) FROM public_updates") == 1

    # The pinned summary counts the linked customers.
    summary = next(m for m in await world.tg.messages(chat_id, thread) if m.get("pinned"))
    await world.tg.wait_for_edit(
        chat_id, summary["message_id"], predicate=lambda m: "Pelanggan terdampak: 2" in m["text"]
    )

    # Resolved: the postmortem draft, then the topic is closed.
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:res:1" in datas(m)
    )
    await press(world, ADMIN, world.admin_chat_id, notice, "inc:1:res:1")

    async def closed() -> bool:
        return bool((await world.tg.topics(chat_id))[0].get("closed"))

    await eventually("the topic closed", closed, timeout=20)
    in_topic = await world.tg.messages(chat_id, thread)
    draft = next(i for i, m in enumerate(in_topic) if "📝" in (m.get("text") or ""))
    line = next(i for i, m in enumerate(in_topic) if "🔒" in (m.get("text") or ""))
    assert draft < line, [m.get("text", "")[:40] for m in in_topic]
    assert len([m for m in in_topic if m.get("document")]) == 2  # both documents before it
    with pytest.raises(EmulatorError, match="TOPIC_CLOSED"):  # only its admins may write now
        await world.send(SARI, "still here?", chat_id=chat_id, thread_id=thread)
