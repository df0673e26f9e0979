"""The staff side of the desk beyond the happy path: a support chat without topics (one card per
ticket, replies threaded to it), a support group that migrates to a supergroup, and the staff
commands in a ticket's topic (/tickets, /assign, /priority, /ban, /unban)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.telegram.client import Json
from services import audit, roster, users
from services.clock import Clock, FrozenClock
from services.tickets import history, store
from services.users import Role
from tests.cast import ADMIN, ALICE, BUDI
from tests.e2e.conftest import World
from tests.e2e.test_support_story import (
    card_of,
    choose_indonesian,
    next_from_bot,
    open_ticket,
    press,
)

SARI = 1010  # a support engineer on the roster


def text_of(message: Json) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def start_with_support_chat(
    world: World, *, type: str, is_forum: bool, members: list[int] | None = None
) -> int:
    """Start the bot with SUPPORT_CHAT_ID pointing at a new chat of this kind."""
    people = members or [ADMIN]
    chat = await world.tg.create_chat(
        "QuickCart Support", type=type, is_forum=is_forum, members=people, admins=[ADMIN]
    )
    world.settings = world.settings.model_copy(update={"SUPPORT_CHAT_ID": chat["id"]})
    world.support_chat_id = chat["id"]
    await world.start_bot()
    return int(chat["id"])


async def cards(world: World, chat_id: int, number: str) -> list[Json]:
    return [
        m
        for m in await world.tg.messages(chat_id)
        if m["from"].get("is_bot") and text_of(m).startswith(f"{number} ")
    ]


async def budi_opens_a_ticket(world: World) -> Json:
    await choose_indonesian(world, BUDI)
    return await open_ticket(world, BUDI, "payment", "QRIS gagal dibayar", None)


async def budis_ticket_without_topics(world: World, type: str) -> tuple[int, Json, Json]:
    """The bot started with a support chat of `type` without topics, and Budi's ticket opened:
    the chat's id, Budi's confirmation and the ticket's card."""
    chat_id = await start_with_support_chat(world, type=type, is_forum=False)
    confirmation = await budi_opens_a_ticket(world)
    return chat_id, confirmation, await card_of(world, "QC-000001")


# -- a support chat without topics ------------------------------------------------------------


async def test_without_topics_one_card_per_ticket_and_replies_thread_to_it(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id, confirmation, card = await budis_ticket_without_topics(world, "supergroup")
    assert card.get("message_thread_id") is None
    assert "tk:1:res" in str(card.get("reply_markup"))

    answer = await world.send(
        ADMIN, "Halo Budi, sedang kami cek.", chat_id=chat_id, reply_to=card["message_id"]
    )
    to_budi = await next_from_bot(world, BUDI, confirmation["message_id"], "sedang kami cek")
    assert "Rina" in to_budi["text"]

    await world.send(BUDI, "Terima kasih, ditunggu")
    copied = await world.tg.wait_for_message(
        chat_id,
        after_message_id=answer["message_id"],
        predicate=lambda m: "ditunggu" in text_of(m),
    )
    assert (copied.get("reply_to_message") or {}).get("message_id") == card["message_id"]
    assert len(await cards(world, chat_id, "QC-000001")) == 1  # one card, not one per failure
    ticket = await store.get(world.pool, 1)
    assert ticket.topic_id is None and ticket.card_message_id == card["message_id"]
    assert [m.direction for m in await history.messages(world.pool, 1)] == ["out", "in"]
    failed = await world.pool.fetch("SELECT kind FROM outbox WHERE status = 'failed' ORDER BY id")
    assert [r["kind"] for r in failed] == ["create_topic", "text"]  # the topic, its first card


async def test_without_topics_a_reply_to_any_part_of_a_long_message_finds_its_ticket(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    chat_id, confirmation, card = await budis_ticket_without_topics(world, "supergroup")
    words = [f"kata{i}" for i in range(520)]
    long_text = " ".join(words)  # 4,000 characters: with its header, more than one message
    assert 3900 < len(long_text) <= 4096
    await world.send(BUDI, long_text)
    last = await world.tg.wait_for_message(
        chat_id, after_message_id=card["message_id"], predicate=lambda m: words[-1] in text_of(m)
    )
    parts = [m for m in await world.tg.messages(chat_id) if "kata" in text_of(m)]
    assert len(parts) >= 2 and "kata0 " not in text_of(last)  # the last part is not the first

    await world.send(
        ADMIN, "Sudah kami baca semuanya.", chat_id=chat_id, reply_to=last["message_id"]
    )
    to_budi = await next_from_bot(world, BUDI, confirmation["message_id"], "kami baca semuanya")
    assert "Rina" in to_budi["text"]
    assert [m.direction for m in await history.messages(world.pool, 1)] == ["in", "out"]


# -- a support group that becomes a supergroup ------------------------------------------------


async def test_a_migrated_support_group_is_followed_to_its_new_chat_id(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    old_id, _, _ = await budis_ticket_without_topics(world, "group")

    new_id = await world.tg.migrate(old_id)
    assert new_id != old_id
    await world.send(BUDI, "Halo, ada kabar soal pembayaran saya?")
    arrived = await world.tg.wait_for_message(
        new_id, predicate=lambda m: "ada kabar" in text_of(m), timeout=10
    )
    assert arrived["chat"]["id"] == new_id
    assert (await store.get(world.pool, 1)).support_chat_id == new_id


async def test_staff_can_answer_from_the_migrated_support_chat(world_unstarted: World) -> None:
    world = world_unstarted
    old_id, confirmation, _ = await budis_ticket_without_topics(world, "group")
    new_id = await world.tg.migrate(old_id)
    await world.send(BUDI, "Halo, ada kabar?")
    arrived = await world.tg.wait_for_message(new_id, predicate=lambda m: "kabar" in text_of(m))
    await world.send(ADMIN, "Sudah kami cek", chat_id=new_id, reply_to=arrived["message_id"])
    await world.tg.wait_for_message(
        BUDI,
        after_message_id=confirmation["message_id"],
        predicate=lambda m: "Sudah kami cek" in text_of(m),
        timeout=3,
    )


# -- staff commands in a ticket's topic -------------------------------------------------------


async def choose_english(world: World, user_id: int) -> None:
    sent = await world.send(user_id, "/start")
    prompt = await next_from_bot(world, user_id, sent["message_id"])
    await press(world, user_id, user_id, prompt, "lang:en")
    await next_from_bot(world, user_id, prompt["message_id"])


class TestStaffCommands:
    """Budi's P1 payment ticket and Alice's P2 question; Rina (admin) and Sari (support) work
    them from their topics. The clock is frozen so that deadlines pass on demand."""

    @pytest.fixture
    def e2e_clock(self) -> Clock:
        return FrozenClock(datetime(2026, 11, 2, 3, 0, tzinfo=UTC))  # 10:00 in Jakarta

    async def two_tickets(self, world_unstarted: World) -> tuple[World, Json, Json]:
        await world_unstarted.tg.create_user(
            SARI, first_name="Sari", username="sari_cs", language_code="id"
        )
        await start_with_support_chat(
            world_unstarted, type="supergroup", is_forum=True, members=[ADMIN, SARI]
        )
        world = world_unstarted
        await users.touch(world.pool, SARI, first_name="Sari", username="sari_cs")
        await roster.add_member(
            world.pool, user_id=SARI, display_name="Sari", roles=[Role.SUPPORT_ENGINEER],
            added_by=ADMIN,
        )  # fmt: skip
        await budi_opens_a_ticket(world)
        await choose_english(world, ALICE)
        await open_ticket(world, ALICE, "other", "How do I change my delivery address?", None)
        return world, await card_of(world, "QC-000001"), await card_of(world, "QC-000002")

    async def command(self, world: World, user_id: int, text: str, card: Json) -> Json:
        """A command in the ticket's topic and the bot's answer there (or its next line)."""
        sent = await world.send(
            user_id, text, chat_id=world.support_chat_id, thread_id=card["message_thread_id"]
        )
        reply: Json = await world.tg.wait_for_message(
            world.support_chat_id,
            thread_id=card["message_thread_id"],
            after_message_id=sent["message_id"],
            predicate=lambda m: bool(m["from"].get("is_bot")) and bool(m.get("text")),
        )
        return reply

    async def test_tickets_lists_by_priority_breached_and_mine(
        self, world_unstarted: World
    ) -> None:
        world, budi_card, alice_card = await self.two_tickets(world_unstarted)
        listing = await self.command(world, ADMIN, "/tickets", budi_card)
        assert listing["text"].startswith("Tiket terbuka")
        assert listing["text"].index("QC-000001") < listing["text"].index("QC-000002")
        assert "P1" in listing["text"] and "P2" in listing["text"]

        assert isinstance(world.clock, FrozenClock)
        world.clock.advance(minutes=61)  # P1 answers within 60 minutes; P2 within 2 hours (bot)
        breached = await self.command(world, ADMIN, "/tickets breached", budi_card)
        assert "QC-000001" in breached["text"] and "QC-000002" not in breached["text"]
        assert "⚠️" in breached["text"]

        assigned = await self.command(world, ADMIN, "/assign @sari_cs", alice_card)
        assert "Sari" in assigned["text"] and "Rina" in assigned["text"]
        mine = await self.command(world, SARI, "/tickets mine", alice_card)
        assert "QC-000002" in mine["text"] and "QC-000001" not in mine["text"]
        nothing = await self.command(world, ADMIN, "/tickets mine", budi_card)
        assert "QC-00000" not in nothing["text"]
        assert (await store.get(world.pool, 2)).assignee_id == SARI
        kinds = [(e.kind, e.actor_id) for e in await history.timeline(world.pool, 2)]
        assert ("assigned", ADMIN) in kinds

    async def test_priority_override_moves_the_topic_title_card_list_and_audit(
        self, world_unstarted: World
    ) -> None:
        world, budi_card, alice_card = await self.two_tickets(world_unstarted)
        told = await self.command(world, ADMIN, "/priority P0", alice_card)
        assert "dari P2 menjadi P0" in told["text"] and "Rina" in told["text"]
        for _ in range(100):  # the rename goes out through the outbox, just after the answer
            topics = await world.tg.topics(world.support_chat_id)
            if any(t["name"] == "🆕 QC-000002 · P0 · Alice" for t in topics):
                break
            await asyncio.sleep(0.1)
        assert any(t["name"] == "🆕 QC-000002 · P0 · Alice" for t in topics), topics
        edited = await world.tg.wait_for_edit(
            world.support_chat_id,
            alice_card["message_id"],
            predicate=lambda m: "P0" in text_of(m),
        )
        assert "P2" not in text_of(edited).split("\n")[0]

        listing = await self.command(world, ADMIN, "/tickets", budi_card)
        assert listing["text"].index("QC-000002") < listing["text"].index("QC-000001")

        since = (await store.get(world.pool, 2)).created_at - timedelta(minutes=1)
        priority = await audit.entries_since(
            world.pool, since, action_prefix="ticket.priority", allowed=True
        )
        assert [(e.actor_id, e.target) for e in priority] == [(ADMIN, "ticket:2")]
        events = [e for e in await history.timeline(world.pool, 2) if e.kind == "priority_changed"]
        assert [(e.actor_id, e.details) for e in events] == [(ADMIN, {"from": "P2", "to": "P0"})]
        ticket = await store.get(world.pool, 2)
        assert ticket.response_due == ticket.created_at + timedelta(minutes=15)

    async def test_ban_refuses_the_customer_politely_and_unban_lets_them_back(
        self, world_unstarted: World
    ) -> None:
        world, budi_card, _ = await self.two_tickets(world_unstarted)
        refused = await self.command(world, SARI, "/ban", budi_card)
        assert "admin" in refused["text"].lower()
        banned = await self.command(world, ADMIN, "/ban", budi_card)
        assert banned["text"].startswith("Budi diblokir sampai")

        sent = await world.send(BUDI, "Kenapa belum dibalas?!")
        polite = await next_from_bot(world, BUDI, sent["message_id"])
        assert polite["text"] == "Akses Anda ke dukungan QuickCart telah ditangguhkan."
        assert [m.body for m in await history.messages(world.pool, 1)] == []

        unbanned = await self.command(world, ADMIN, "/unban", budi_card)
        assert "boleh menulis" in unbanned["text"]
        await world.send(BUDI, "Maaf, saya coba lagi")
        await world.tg.wait_for_message(
            world.support_chat_id,
            thread_id=budi_card["message_thread_id"],
            predicate=lambda m: "coba lagi" in text_of(m),
        )
        since = (await store.get(world.pool, 1)).created_at - timedelta(minutes=1)
        log = [
            (e.actor_id, e.action, e.allowed)
            for e in await audit.entries_since(world.pool, since)
            if e.action in ("ticket.ban", "ticket.unban")
        ]
        assert log == [
            (SARI, "ticket.ban", False),
            (ADMIN, "ticket.ban", True),
            (ADMIN, "ticket.unban", True),
        ]

    async def test_a_press_the_ticket_no_longer_allows_is_answered_with_the_reason(
        self, world_unstarted: World
    ) -> None:
        """Two staff on one card: the later press meets a ticket error, which the support
        router answers with its sentence (handlers.refusals.answers), not an apology."""
        world, budi_card, _ = await self.two_tickets(world_unstarted)
        resolved = await press(world, ADMIN, world.support_chat_id, budi_card, "tk:1:res")
        assert resolved["text"] == "Diselesaikan. Pelanggan diminta memberi penilaian.", resolved
        query = await world.tg.press(
            SARI, world.support_chat_id, budi_card["message_id"], "tk:1:ack", force=True
        )
        late = await world.tg.callback_answer(query)
        assert late["text"] == "Tiket ini sudah diselesaikan." and late["show_alert"], late
        assert (await store.get(world.pool, 1)).status.value == "resolved"
