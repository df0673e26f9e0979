"""The e-mail channel end to end (issue 20): Budi writes to support@… ; the mail arrives in
Dovecot, the running bot reads it (IMAP IDLE) and it becomes QC-000001 on the e-mail channel
with an 8-business-hour deadline and a topic; Rina answers in the topic as for any ticket; the
answer reaches Budi's inbox (aiosmtpd) in his thread; Budi's reply returns to the same ticket."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from services.clock import Clock, FrozenClock
from services.sla import Channel
from services.tickets import store
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World
from tests.mailservers import DOVECOT, NO_DOVECOT, SUPPORT, Dovecot, SmtpInbox, dovecot, smtp_inbox

pytestmark = pytest.mark.skipif(DOVECOT is None, reason=NO_DOVECOT)

# Monday 2 November 2026, 07:00 in Jakarta: before business hours
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
BUDI_MAIL = "budi.santoso@gmail.com"


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip(NO_DOVECOT)
    with dovecot() as server:
        yield server


@pytest.fixture
def e2e_clock() -> Clock:
    return FrozenClock(T0)


@pytest.fixture
async def inbox() -> AsyncIterator[SmtpInbox]:
    async with smtp_inbox() as server:
        yield server


@pytest.fixture
async def mail_world(
    world_unstarted: World, dovecot_server: Dovecot, inbox: SmtpInbox
) -> AsyncIterator[tuple[World, Dovecot, SmtpInbox]]:
    mailbox = dovecot_server.mailbox()
    world_unstarted.settings = world_unstarted.settings.model_copy(
        update={"SUPPORT_EMAIL": SUPPORT, "IMAP_URL": mailbox.url, "SMTP_URL": inbox.url}
    )
    await world_unstarted.start_bot()
    yield world_unstarted, mailbox, inbox


def budi_mails(mailbox: Dovecot, text: str, subject: str, **headers: str) -> str:
    """Budi's mail client sends `text` to the support address (into its IMAP mailbox): the
    mail's Message-ID. `headers`: In_Reply_To= and the like."""
    message = EmailMessage()
    message["From"] = f"Budi Santoso <{BUDI_MAIL}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Message-ID"] = message_id = make_msgid(domain="mail.gmail.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    mailbox.deliver(message.as_bytes())
    return message_id


async def in_topic(world: World, thread_id: int, words: str) -> dict[str, Any]:
    found: dict[str, Any] = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=thread_id,
        predicate=lambda m: words in (m.get("text") or m.get("caption") or ""),
        timeout=20,
    )
    return found


async def test_an_email_becomes_a_ticket_answered_in_its_thread(
    mail_world: tuple[World, Dovecot, SmtpInbox],
) -> None:
    world, mailbox, inbox = mail_world
    first_id = budi_mails(
        mailbox,
        "Selamat pagi, apakah QuickCart punya program afiliasi untuk toko kecil?\n\nBudi",
        "Program afiliasi",
    )

    # the card opens a topic in the support group, named for the sender and his address
    card = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: (m.get("text") or "").startswith("QC-000001 "),
        timeout=20,
    )
    topic = card["message_thread_id"]
    assert "budi.santoso@gmail.com" in card["text"]
    assert "program afiliasi" in card["text"]
    ticket = await store.get(world.pool, 1)
    assert ticket.channel is Channel.EMAIL
    # 8 business hours from Monday 07:00 Jakarta (before opening): Monday 17:00 Jakarta
    assert ticket.response_due == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)

    # Budi is told the number, in Indonesian, in his thread
    [ack] = await inbox.wait_for(1)
    assert ack["To"] == BUDI_MAIL
    assert ack["Subject"] == "Re: [QC-000001] Program afiliasi"
    assert ack["In-Reply-To"] == first_id
    assert "Tiket Anda QC-000001 sudah dibuka" in ack.get_content()

    # Rina answers in the topic, exactly as for a Telegram ticket
    await world.send(
        ADMIN, "Ada, Pak Budi: daftar lewat menu Mitra > Afiliasi.",
        chat_id=world.support_chat_id, thread_id=topic,
    )  # fmt: skip
    _, answer = await inbox.wait_for(2)
    assert answer["Subject"] == "Re: [QC-000001] Program afiliasi"
    assert answer["In-Reply-To"] == first_id
    assert answer["References"].split() == [first_id, ack["Message-ID"]]
    body = answer.get_content().replace("\r\n", "\n")
    assert body.startswith("Ada, Pak Budi: daftar lewat menu Mitra > Afiliasi.\n\n— Rina, ")

    # Budi's answer from his mail client comes back into the same ticket and topic
    budi_mails(
        mailbox,
        "Siap, terima kasih!\n\nPada Senin, Dukungan QuickCart menulis:\n> Ada, Pak Budi",
        f"Re: {answer['Subject']}",
        In_Reply_To=answer["Message-ID"],
        References=f"{first_id} {answer['Message-ID']}",
    )
    relayed = await in_topic(world, topic, "Siap, terima kasih!")
    assert "Pada Senin" not in relayed["text"]  # the quoted conversation stays out
    assert await world.pool.fetchval("SELECT count(*) FROM tickets") == 1
    directions = [
        r["direction"]
        for r in await world.pool.fetch(
            "SELECT direction FROM ticket_messages WHERE ticket_id = 1 ORDER BY id"
        )
    ]
    assert directions == ["out", "in"]


async def test_a_file_staff_send_in_the_topic_goes_along_by_email(
    mail_world: tuple[World, Dovecot, SmtpInbox],
) -> None:
    world, mailbox, inbox = mail_world
    budi_mails(mailbox, "Apakah ada program afiliasi? Lampiran: formulir.", "Afiliasi")
    card = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: (m.get("text") or "").startswith("QC-000001 "),
        timeout=20,
    )
    await inbox.wait_for(1)
    await world.tg.send_document(
        ADMIN, world.support_chat_id, b"Formulir afiliasi QuickCart\n", "formulir.txt",
        "text/plain", caption="Silakan isi formulir ini.", thread_id=card["message_thread_id"],
    )  # fmt: skip
    _, answer = await inbox.wait_for(2)
    text = answer.get_body(("plain",))
    assert text is not None and text.get_content().startswith("Silakan isi formulir ini.")
    [attached] = list(answer.iter_attachments())
    assert attached.get_content().replace("\r\n", "\n") == "Formulir afiliasi QuickCart\n"
    assert (attached.get_filename() or "").endswith(".txt")


async def test_budi_links_his_address_and_his_email_tickets_join_his_telegram_history(
    mail_world: tuple[World, Dovecot, SmtpInbox],
) -> None:
    world, mailbox, inbox = mail_world
    budi_mails(mailbox, "Apakah ada program afiliasi?", "Afiliasi")
    await inbox.wait_for(1)  # QC-000001, as an e-mail-only customer
    assert await world.pool.fetchval("SELECT customer_id FROM tickets WHERE id = 1") != BUDI

    sent = await world.send(BUDI, f"/email {BUDI_MAIL.upper()}")
    told = await world.reply_to(BUDI, after=sent["message_id"])
    assert BUDI_MAIL in told["text"]
    _, code_mail = await inbox.wait_for(2)
    assert code_mail["To"] == BUDI_MAIL
    code = re.search(r"\b(\d{6})\b", code_mail.get_content())
    assert code is not None

    wrong = "000000" if code.group(1) != "000000" else "111111"
    sent = await world.send(BUDI, f"/email {wrong}")
    refused = await world.reply_to(BUDI, after=sent["message_id"])
    assert "tidak cocok" in refused["text"]
    assert await world.pool.fetchval("SELECT customer_id FROM tickets WHERE id = 1") != BUDI

    sent = await world.send(BUDI, f"/email {code.group(1)}")
    done = await world.reply_to(BUDI, after=sent["message_id"])
    assert "sudah tertaut" in done["text"]
    assert await world.pool.fetchval("SELECT customer_id FROM tickets WHERE id = 1") == BUDI
    audited = await world.pool.fetchrow(
        "SELECT actor_id, details FROM audit_log WHERE action = 'email.link'"
    )
    assert audited["actor_id"] == BUDI and audited["details"]["moved_tickets"] == 1

    # his next mail opens a ticket as his Telegram self: one history
    budi_mails(mailbox, "Satu pertanyaan lagi tentang komisi afiliasi.", "Komisi")
    await inbox.wait_for(3)
    owners = await world.pool.fetch("SELECT customer_id FROM tickets ORDER BY id")
    assert [r["customer_id"] for r in owners] == [BUDI, BUDI]


async def test_markup_and_a_very_long_mail_reach_the_topic_whole_and_telegram_accepts_it(
    mail_world: tuple[World, Dovecot, SmtpInbox],
) -> None:
    world, mailbox, inbox = mail_world
    line = "Saya <b>tidak</b> bisa bayar & <script>alert('x')</script> — ünïcødé 🙂\n"
    text = line * 400  # about 30,000 characters
    budi_mails(mailbox, text, "<i>Tolong</i> & cepat")
    card = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: (m.get("text") or "").startswith("QC-000001 "),
        timeout=20,
    )
    assert "<i>Tolong</i> & cepat" in card["text"]  # shown as text, not markup
    whole = await in_topic(world, card["message_thread_id"], "email-text.txt")
    assert whole["document"]["file_name"] == "email-text.txt"
    [ack] = await inbox.wait_for(1)
    assert ack["Subject"] == "Re: [QC-000001] <i>Tolong</i> & cepat"
    # the world's teardown checks Telegram refused nothing the bot sent (entities, lengths)


async def test_refused_mail_is_one_notice_in_the_support_group_edited_as_more_come(
    mail_world: tuple[World, Dovecot, SmtpInbox],
) -> None:
    world, mailbox, inbox = mail_world
    budi_mails(
        mailbox,
        "Saya sedang cuti sampai 9 November.",
        "Balasan otomatis",
        Auto_Submitted="auto-replied",
    )
    notice = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: "E-mail yang ditolak desk sejak 07:00: 1" in (m.get("text") or ""),
        timeout=20,
    )
    assert notice.get("message_thread_id") in (None, 1)  # the group's General topic
    assert "otomatis (auto-reply, bounce, milis: tidak pernah dibalas): 1" in notice["text"]

    sealed = (  # S/MIME encrypted to a key the desk does not have
        f"From: Budi Santoso <{BUDI_MAIL}>\r\nTo: {SUPPORT}\r\nSubject: Pesanan saya\r\n"
        "Message-ID: <smime-1@mail.gmail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggFAMIIBPAIBADAk\r\n"
    ).encode()
    mailbox.deliver(sealed)
    [answer] = await inbox.wait_for(1)  # Budi, not the auto-reply, is told
    assert "tidak dapat membaca" in answer.get_content()
    edited = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: (
            m["message_id"] == notice["message_id"] and "sejak 07:00: 2" in (m.get("text") or "")
        ),
        timeout=20,
    )
    assert "tidak terbaca: 1" in edited["text"] and "Pengirim yang dibalas: 1" in edited["text"]
    # the world's teardown checks Telegram refused nothing the bot sent
