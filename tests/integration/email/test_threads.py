"""Budi writes to support@…: a ticket on the e-mail channel with its 8-business-hour clock, an
acknowledgement in his language, Rina's answer in his thread, his reply back in the ticket."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services import users
from services.email import store
from services.sla import Channel as SlaChannel
from services.tickets import actions, desk
from services.tickets import store as tickets_store
from services.tickets.model import Incoming
from tests.integration.email.conftest import SUPPORT_CHAT, Channel, customer_mail

RINA = 2001


async def rina(pool: asyncpg.Pool) -> users.Person:
    await users.touch(pool, RINA, first_name="Rina")
    await pool.execute(
        "INSERT INTO staff (user_id, display_name, roles) VALUES ($1, $2, $3)",
        RINA,
        "Rina",
        ["support_engineer"],
    )
    person = await users.get(pool, RINA)
    assert person is not None
    return person


async def budis_question(channel: Channel) -> tuple[int, str]:
    """Budi mails his affiliate question and it is taken in: its ticket, the mail's Message-ID."""
    message_id = channel.customer_writes("Apakah ada program afiliasi untuk toko kecil?")
    [handled] = await channel.turn()
    assert handled.ticket_id is not None
    return handled.ticket_id, message_id


async def test_a_mail_becomes_an_email_ticket_and_budi_is_told_its_number(channel: Channel) -> None:
    raw, message_id = customer_mail(
        "Selamat pagi, apakah QuickCart punya program afiliasi untuk toko kecil?"
    )
    channel.mailbox.deliver(raw)

    [handled] = await channel.turn()

    assert handled.status == "ticketed" and handled.ticket_id is not None
    ticket = await tickets_store.get(channel.pool, handled.ticket_id)
    assert ticket.channel is SlaChannel.EMAIL
    assert ticket.number == "QC-000001"
    # Monday 07:00 Jakarta + 8 business hours (09:00-17:00) = Monday 17:00 Jakarta
    assert ticket.response_due == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    # + 48 business hours = six working days of 8 hours: Monday 9 Nov 17:00 Jakarta
    assert ticket.resolution_due == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)
    assert ticket.language == "id"
    customer = await users.get(channel.pool, ticket.customer_id)
    assert customer is not None and customer.first_name == "✉️ Budi Santoso (budi.santoso@gmail.com)"
    assert await store.customer_of(channel.pool, "budi.santoso@gmail.com") == customer.id
    # the raw message is kept whole, and only then flagged on the server
    kept = await channel.pool.fetchrow("SELECT raw, status FROM email_messages WHERE id = $1",
                                       handled.email_id)  # fmt: skip
    assert bytes(kept["raw"]).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert kept["status"] == "ticketed"
    assert "\\Seen" in channel.mailbox.flags()[0]
    # the topic and its card are queued for the support group
    kinds = await channel.pool.fetch(
        "SELECT kind FROM outbox WHERE chat_id = $1 ORDER BY id", SUPPORT_CHAT
    )
    assert [r["kind"] for r in kinds][:2] == ["create_topic", "text"]
    # the acknowledgement: in Budi's thread, in Indonesian, with the number
    [ack] = channel.inbox.messages
    assert ack["To"] == "budi.santoso@gmail.com"
    assert ack["From"] == "QuickCart Support <support@quickcart.test>"
    assert ack["Subject"] == "Re: [QC-000001] Program afiliasi"
    assert ack["In-Reply-To"] == message_id
    assert message_id in ack["References"]
    text = ack.get_content().replace("\r\n", "\n")
    assert "Tiket Anda QC-000001 sudah dibuka" in text
    assert "<b>" not in text
    assert channel.inbox.envelopes[0] == ("support@quickcart.test", ["budi.santoso@gmail.com"])


async def test_an_english_mail_is_acknowledged_in_english(channel: Channel) -> None:
    channel.customer_writes(
        "Hello, how can I change the delivery address of my order? Thanks",
        sender="Alice <alice@example.com>", subject="Delivery address",
    )  # fmt: skip
    await channel.turn()
    [ack] = channel.inbox.messages
    assert "Your ticket QC-000001 is open" in ack.get_content()
    assert (await users.get(channel.pool, (await store.customer_of(channel.pool,
            "alice@example.com")) or 0)).language == "en"  # type: ignore[union-attr]  # fmt: skip


async def test_rinas_answer_goes_out_threaded_and_budis_reply_comes_back(channel: Channel) -> None:
    ticket_id, first_id = await budis_question(channel)
    staff = await rina(channel.pool)

    # Rina answers in the ticket's topic, exactly as for a Telegram ticket
    await desk.staff_message(
        channel.pool, channel.cfg, channel.clock, staff=staff, ticket_id=ticket_id,
        incoming=Incoming(chat_id=SUPPORT_CHAT, message_id=500, author_id=RINA, kind="text",
                          text="Ada: daftar di menu Mitra <Saya> lalu pilih Afiliasi."),
    )  # fmt: skip
    assert await channel.send() == 1
    ack, answer = channel.inbox.messages
    assert answer["Subject"] == "Re: [QC-000001] Program afiliasi"
    assert answer["In-Reply-To"] == first_id
    assert answer["References"].split() == [first_id, ack["Message-ID"]]
    body = answer.get_content().replace("\r\n", "\n")
    assert body.startswith("Ada: daftar di menu Mitra <Saya> lalu pilih Afiliasi.\n\n— Rina, ")
    assert "Dukungan QuickCart" in body
    ticket = await tickets_store.get(channel.pool, ticket_id)
    assert ticket.first_response_at == channel.clock.now()

    # Budi answers from his mail client: the reply quotes everything, the ticket gets his words
    channel.customer_writes(
        f"Sudah berhasil, terima kasih!\n\nPada Senin, Rina menulis:\n> {body[:40]}",
        subject=f"Re: {answer['Subject']}",
        in_reply_to=answer["Message-ID"],
        references=f"{first_id} {answer['Message-ID']}",
    )
    [back] = await channel.turn()
    assert (back.status, back.ticket_id) == ("ticketed", ticket_id)
    rows = await channel.pool.fetch(
        "SELECT direction, body FROM ticket_messages WHERE ticket_id = $1 ORDER BY id", ticket_id
    )
    assert [(r["direction"], r["body"]) for r in rows] == [
        ("out", "Ada: daftar di menu Mitra <Saya> lalu pilih Afiliasi."),
        ("in", "Sudah berhasil, terima kasih!"),
    ]
    assert await channel.pool.fetchval("SELECT count(*) FROM tickets") == 1


async def test_the_number_in_the_subject_finds_the_ticket_but_only_for_its_customer(
    channel: Channel,
) -> None:
    channel.customer_writes("Apakah ada program afiliasi untuk toko kecil?")
    [first] = await channel.turn()

    # a client that drops the headers: the subject's number is enough
    channel.customer_writes("Satu lagi: berapa komisinya?", subject="[QC-000001] afiliasi")
    [same] = await channel.turn()
    assert same.ticket_id == first.ticket_id

    # someone else naming Budi's ticket opens a ticket of their own
    channel.customer_writes(
        "Tolong tutup tiket ini", sender="iseng@example.com", subject="Re: [QC-000001] afiliasi"
    )
    [theirs] = await channel.turn()
    assert theirs.status == "ticketed" and theirs.ticket_id != first.ticket_id
    assert await channel.pool.fetchval(
        "SELECT count(*) FROM ticket_messages WHERE ticket_id = $1 AND direction = 'in'",
        first.ticket_id,
    ) == 1  # fmt: skip


async def test_one_address_one_customer_one_history(channel: Channel) -> None:
    for subject in ("Program afiliasi", "Kerja sama toko"):
        channel.customer_writes(f"Pertanyaan tentang {subject.lower()}", subject=subject)
    handled = await channel.turn()
    tickets = [await tickets_store.get(channel.pool, h.ticket_id or 0) for h in handled]
    assert len({t.id for t in tickets}) == 2  # a new mail without a reference: a new ticket
    assert len({t.customer_id for t in tickets}) == 1
    history = await tickets_store.for_customer(channel.pool, tickets[0].customer_id)
    assert sorted(t.id for t in history) == sorted(t.id for t in tickets)


async def test_resolved_by_mail_and_rated_by_a_reply_of_one_number(channel: Channel) -> None:
    ticket_id, _ = await budis_question(channel)
    staff = await rina(channel.pool)
    await actions.resolve(channel.pool, channel.cfg, channel.clock, actor=staff,
                          ticket_id=ticket_id)  # fmt: skip
    await channel.send()
    resolved = channel.inbox.messages[-1]
    text = resolved.get_content()
    assert "Tiket Anda QC-000001 telah diselesaikan" in text
    assert "balas e-mail ini hanya dengan angka 1 sampai 5" in text

    channel.customer_writes(
        "5\n\nPada Senin, Dukungan QuickCart menulis:\n> Tiket Anda QC-000001",
        subject=f"Re: {resolved['Subject']}", in_reply_to=resolved["Message-ID"],
    )  # fmt: skip
    [rated] = await channel.turn()
    assert (rated.status, rated.ticket_id) == ("ticketed", ticket_id)
    ticket = await tickets_store.get(channel.pool, ticket_id)
    assert ticket.rating == 5
    assert ticket.status.value == "resolved"  # a rating does not reopen it
    assert await store.claim_stored(channel.pool) is None
