"""What must not happen with mail: a loop with an auto-responder, a mail bomb filling the desk,
a huge file accepted, a message lost between the mailbox and the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.email import intake, store
from services.email.inbound import connect, fetch_new
from services.email.smtp import MailSender
from tests.integration.email.conftest import SUPPORT_CHAT, Channel, customer_mail
from tests.net import free_port

FIXTURES = Path(__file__).parents[2] / "unit" / "email" / "fixtures"


async def count_in(channel: Channel) -> int:
    value: int = await channel.pool.fetchval(
        "SELECT count(*) FROM email_messages WHERE direction = 'in'"
    )
    return value


@pytest.mark.parametrize("name", ["out_of_office.eml", "bounce.eml"])
async def test_auto_replies_and_bounces_are_kept_but_never_answered(
    channel: Channel, name: str
) -> None:
    channel.mailbox.deliver((FIXTURES / name).read_bytes())
    [handled] = await channel.turn()
    assert handled.status == "ignored" and handled.reason and handled.reason.startswith("loop:")
    assert await channel.pool.fetchval("SELECT count(*) FROM tickets") == 0
    row = await channel.pool.fetchrow("SELECT status, reason, raw FROM email_messages")
    assert row["status"] == "ignored" and len(row["raw"]) > 100
    assert channel.inbox.messages == []  # no acknowledgement: that is how loops start


async def test_mail_from_the_support_address_itself_is_not_answered(channel: Channel) -> None:
    channel.customer_writes("echo", sender="QuickCart <support@quickcart.test>")
    [handled] = await channel.turn()
    assert handled.status == "ignored"
    assert channel.inbox.messages == []


async def test_a_mail_bomb_is_kept_but_only_the_first_mails_make_tickets(channel: Channel) -> None:
    bomb = channel.with_limits(messages_per_hour=3)
    for n in range(6):
        channel.customer_writes(f"Apakah ada program afiliasi? ({n})", subject=f"Afiliasi {n}")
    handled = await bomb.turn()
    assert [h.status for h in handled] == ["ticketed"] * 3 + ["limited"] * 3
    assert (
        await channel.pool.fetchval("SELECT count(*) FROM email_messages WHERE direction = 'in'")
        == 6
    )
    # three acknowledgements and one notice for the whole burst, not one per message
    subjects = [m["Subject"] for m in channel.inbox.messages]
    assert len(subjects) == 4
    assert subjects.count("Re: Afiliasi 3") == 1
    assert "banyak e-mail" in channel.inbox.messages[-1].get_content() or "many e-mails" in (
        channel.inbox.messages[-1].get_content()
    )


async def test_an_oversized_attachment_is_refused_with_a_reply_the_rest_kept(
    channel: Channel,
) -> None:
    small = b"%PDF-1.4 invoice " * 10
    big = b"\0" * 5000
    channel.customer_writes(
        "Apakah ada program afiliasi? Lampiran: formulir dan video.",
        attachments=(("formulir.pdf", small), ("video.mov", big)),
    )
    [handled] = await channel.with_limits(max_attachment_bytes=1024).turn()
    assert handled.status == "ticketed"
    kept = await channel.pool.fetch("SELECT filename, size, data FROM email_attachments")
    assert [(r["filename"], r["size"], bytes(r["data"])) for r in kept] == [
        ("formulir.pdf", len(small), small)
    ]
    # staff see the kept file in the topic, and a note naming the refused one
    rows = await channel.pool.fetch(
        "SELECT kind, payload FROM outbox WHERE chat_id = $1 ORDER BY id", SUPPORT_CHAT
    )
    documents = [r["payload"] for r in rows if r["kind"] == "document"]
    assert [d["document"]["filename"] for d in documents] == ["formulir.pdf"]
    assert any("video.mov" in r["payload"].get("text", "") for r in rows if r["kind"] == "text")
    # the customer is told, in their thread
    assert len(channel.inbox.messages) == 2  # the acknowledgement and the refusal
    [refusal] = [m for m in channel.inbox.messages if "video.mov" in m.get_content()]
    assert refusal["Subject"] == "Re: [QC-000001] Program afiliasi"
    assert "formulir.pdf" not in refusal.get_content()


async def test_a_message_too_large_keeps_its_headers_and_the_sender_is_told(
    channel: Channel,
) -> None:
    message_id = channel.customer_writes(
        "Apakah ada program afiliasi?", attachments=(("x.bin", b"x" * 4000),)
    )
    [handled] = await channel.with_limits(max_message_bytes=2000).turn()
    assert handled.status == "refused" and handled.ticket_id is None
    row = await channel.pool.fetchrow(
        "SELECT status, reason, message_id, raw FROM email_messages WHERE direction = 'in'"
    )
    assert row["status"] == "refused" and row["message_id"] == message_id
    assert b"Subject: Program afiliasi" in bytes(row["raw"]) and b"xxxx" not in bytes(row["raw"])
    [notice] = channel.inbox.messages
    assert notice["To"] == "budi.santoso@gmail.com"
    assert "\\Seen" in channel.mailbox.flags()[0]


async def test_nothing_is_flagged_on_the_server_before_it_is_stored(channel: Channel) -> None:
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.pool.execute("ALTER TABLE email_messages RENAME TO email_messages_away")
    client = await connect(channel.ecfg)
    try:
        with pytest.raises(Exception, match="email_messages"):
            await fetch_new(channel.pool, client, channel.ecfg, channel.clock)
    finally:
        await client.logout()
    assert "\\Seen" not in channel.mailbox.flags()[0]  # still new on the server

    await channel.pool.execute("ALTER TABLE email_messages_away RENAME TO email_messages")
    [handled] = await channel.turn()
    assert handled.status == "ticketed"
    assert "\\Seen" in channel.mailbox.flags()[0]


async def test_a_message_fetched_twice_is_stored_once(channel: Channel) -> None:
    raw, _ = customer_mail("Apakah ada program afiliasi?")
    channel.mailbox.deliver(raw)
    channel.mailbox.deliver(raw)  # the same Message-ID again (a crash before the flag)
    handled = await channel.turn()
    assert [h.status for h in handled] == ["ticketed"]
    assert (
        await channel.pool.fetchval("SELECT count(*) FROM email_messages WHERE direction = 'in'")
        == 1
    )
    assert await channel.pool.fetchval("SELECT count(*) FROM tickets") == 1


async def test_a_message_the_desk_cannot_take_stays_stored_and_marked(channel: Channel) -> None:
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.fetch()
    await channel.pool.execute("ALTER TABLE tickets RENAME TO tickets_away")
    [handled] = await channel.take_in()
    await channel.pool.execute("ALTER TABLE tickets_away RENAME TO tickets")
    assert handled.status == "refused"
    row = await channel.pool.fetchrow("SELECT status, reason FROM email_messages")
    assert row["status"] == "refused" and "tickets" in row["reason"]
    assert await store.claim_stored(channel.pool) is None


async def test_an_answer_the_server_refuses_is_told_in_the_topic(channel: Channel) -> None:
    channel.inbox.refuse.add("budi.santoso@gmail.com")
    sender = MailSender(channel.pool, channel.ecfg, channel.clock, desk=channel.cfg)
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.read()
    assert await sender.send_one() is True
    row = await channel.pool.fetchrow(
        "SELECT status, last_error FROM email_messages WHERE direction = 'out'"
    )
    assert row["status"] == "failed" and "550" in row["last_error"]
    assert channel.inbox.messages == []
    told = await topic_texts(channel)
    assert any("budi.santoso@gmail.com" in t and "No such user" in t for t in told), told


async def test_a_bounce_of_an_answer_is_told_in_the_topic_and_not_answered(
    channel: Channel,
) -> None:
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.turn()
    [ack] = channel.inbox.messages
    bounce = (
        (FIXTURES / "bounce.eml")
        .read_bytes()
        .replace(
            b"--B1B2B3B4.1793600000/mx.quickcart.id--",
            b"--B1B2B3B4.1793600000/mx.quickcart.id\nContent-Type: text/rfc822-headers\n\n"
            + f"Message-ID: {ack['Message-ID']}\nSubject: {ack['Subject']}\n\n".encode()
            + b"--B1B2B3B4.1793600000/mx.quickcart.id--",
        )
    )
    channel.mailbox.deliver(bounce)
    [handled] = await channel.turn()
    assert handled.status == "ignored"
    told = await topic_texts(channel)
    assert any("5.4.4" in t and "budi.santoso@gmail.com" in t for t in told), told
    assert len(channel.inbox.messages) == 1  # nothing answers a bounce


async def topic_texts(channel: Channel) -> list[str]:
    rows = await channel.pool.fetch(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id",
        SUPPORT_CHAT,
    )
    return [str(r["payload"].get("text", "")) for r in rows]


async def test_a_storm_of_mail_is_taken_in_at_once_each_sender_its_ticket(channel: Channel) -> None:
    for n in range(40):
        channel.customer_writes(
            f"Apakah ada program afiliasi? ({n})", sender=f"toko{n}@example.com"
        )
    handled = await channel.turn()
    assert [h.status for h in handled] == ["ticketed"] * 40
    assert await channel.pool.fetchval("SELECT count(DISTINCT customer_id) FROM tickets") == 40
    assert len(channel.inbox.messages) == 40
    assert {m["To"] for m in channel.inbox.messages} == {f"toko{n}@example.com" for n in range(40)}


async def test_a_message_waits_stored_while_redis_is_down_and_is_taken_in_after(
    channel: Channel,
) -> None:
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.fetch()
    down = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    try:
        with pytest.raises(RedisConnectionError):
            await intake.handle_stored(channel.pool, down, channel.cfg, channel.ecfg, channel.clock)
    finally:
        await down.aclose()
    assert await channel.pool.fetchval("SELECT status FROM email_messages") == "stored"
    [handled] = await channel.take_in()
    assert handled.status == "ticketed"


async def test_a_mail_with_too_many_files_posts_the_first_ones_and_refuses_the_rest(
    channel: Channel,
) -> None:
    files = tuple((f"foto-{n:02d}.jpg", b"\xff\xd8 jpeg %d" % n) for n in range(14))
    channel.customer_writes("Apakah ada program afiliasi? Foto toko terlampir.", attachments=files)
    [handled] = await channel.turn()
    assert handled.status == "ticketed"
    posted = await channel.pool.fetch(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND kind = 'document' ORDER BY id",
        SUPPORT_CHAT,
    )
    assert [p["payload"]["document"]["filename"] for p in posted] == [
        f"foto-{n:02d}.jpg" for n in range(10)
    ]
    [refusal] = [m for m in channel.inbox.messages if "foto-13.jpg" in m.get_content()]
    assert "foto-10.jpg" in refusal.get_content() and "foto-09.jpg" not in refusal.get_content()
