"""A mail the desk refuses tells someone: the sender, where answering is safe (never a machine,
at most once an hour per address, in their language), and staff, by one notice per hour in the
support group that counts every refused mail and is edited in place as a storm goes on; each
one is audited. Against Dovecot and aiosmtpd, as every e-mail test."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

from services.email import refusals
from tests.integration.email.conftest import SUPPORT_CHAT, Channel

FIXTURES = Path(__file__).parents[2] / "unit" / "email" / "fixtures"

# An Outlook mail whose rich text is sealed in winmail.dat: nothing of it is readable.
TNEF = b"""From: Alice Wong <alice.wong@outlook.com>
To: support@quickcart.test
Subject: Refund for my cancelled order please
Message-ID: <tnef-1@outlook.com>
Content-Language: en-US
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="winmail.dat"

eJ8+IgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
--b1--
"""

# A body in a charset nobody knows, in broken base64: nothing of it decodes.
GARBLED = b"""From: Siti Rahma <siti.rahma@yahoo.co.id>
To: support@quickcart.test
Subject: Pesanan saya belum sampai
Message-ID: <garbled-1@yahoo.co.id>
MIME-Version: 1.0
Content-Type: text/plain; charset="x-mystery"
Content-Transfer-Encoding: base64

!!!!
"""


async def staff_notices(channel: Channel) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await channel.pool.fetch(
        "SELECT id, chat_id, kind, status, ref_id, payload FROM outbox WHERE owner = $1"
        " ORDER BY id",
        refusals.OWNER,
    )
    return rows


async def audited(channel: Channel) -> list[dict[str, Any]]:
    rows = await channel.pool.fetch(
        "SELECT target, allowed, details FROM audit_log WHERE action = 'email.refused' ORDER BY id"
    )
    return [{"target": r["target"], "allowed": r["allowed"], **dict(r["details"])} for r in rows]


async def test_a_mail_too_large_is_answered_in_the_senders_language_and_staff_are_told(
    channel: Channel,
) -> None:
    channel.customer_writes(
        "Please see the attached video of the broken parcel.",
        sender="Alice Wong <alice.wong@outlook.com>",
        subject="Broken parcel, please help",
        attachments=(("parcel.mov", b"x" * 4000),),
        headers={"Content-Language": "en-US"},
    )
    [handled] = await channel.with_limits(max_message_bytes=2000).turn()
    assert handled.status == "refused"

    [answer] = channel.inbox.messages
    assert answer["To"] == "alice.wong@outlook.com"
    assert answer["Subject"] == "Re: Broken parcel, please help"
    assert "larger than" in answer.get_content()  # English: her mail client and subject say so

    [notice] = await staff_notices(channel)
    assert notice["chat_id"] == SUPPORT_CHAT and notice["kind"] == "text"
    text = notice["payload"]["text"]
    assert "E-mails the desk refused since 07:00: 1" in text  # the desk speaks English here
    assert "too large: 1" in text and "alice.wong@outlook.com (1)" in text
    assert "Senders answered: 1" in text
    [entry] = await audited(channel)
    assert entry["target"] == "alice.wong@outlook.com" and entry["allowed"] is False
    assert entry["kind"] == "too_large" and entry["answered"] is True
    assert refusals.REFUSED.labels("too_large", "yes")._value.get() >= 1  # on /metrics


async def test_auto_replies_are_counted_for_staff_but_never_answered(channel: Channel) -> None:
    channel.mailbox.deliver((FIXTURES / "out_of_office.eml").read_bytes())
    channel.mailbox.deliver((FIXTURES / "bounce.eml").read_bytes())
    handled = await channel.turn()
    assert [h.status for h in handled] == ["ignored", "ignored"]
    assert channel.inbox.messages == []  # answering a machine starts a loop
    [notice] = await staff_notices(channel)  # two refusals, one notice
    text = notice["payload"]["text"]
    assert "refused since 07:00: 2" in text
    assert "automatic (auto-reply, bounce, list: never answered): 2" in text
    assert "Senders answered: 0" in text
    assert [e["kind"] for e in await audited(channel)] == ["loop", "loop"]
    assert not any(e["answered"] for e in await audited(channel))


async def test_unreadable_mail_is_answered_once_in_its_language(channel: Channel) -> None:
    channel.mailbox.deliver(TNEF)
    channel.mailbox.deliver(GARBLED)
    handled = await channel.turn()
    assert [h.status for h in handled] == ["refused", "refused"]
    assert all(h.reason and h.reason.startswith("unreadable:") for h in handled)
    to_alice, to_siti = channel.inbox.messages
    assert to_alice["To"] == "alice.wong@outlook.com"
    assert "could not read your e-mail" in to_alice.get_content()
    assert to_siti["To"] == "siti.rahma@yahoo.co.id"
    assert "tidak dapat membaca" in to_siti.get_content()  # Indonesian: her words say so
    # both stored whole, for staff to open by hand
    raws = await channel.pool.fetch("SELECT raw FROM email_messages WHERE direction = 'in'")
    assert {b"winmail.dat" in bytes(r["raw"]) for r in raws} == {True, False}
    [notice] = await staff_notices(channel)
    assert "unreadable: 2" in notice["payload"]["text"]


async def test_one_sender_is_answered_at_most_once_an_hour_whatever_the_reason(
    channel: Channel,
) -> None:
    channel.customer_writes(
        "Video terlampir.", sender="siti.rahma@yahoo.co.id", subject="Video paket",
        attachments=(("paket.mov", b"x" * 4000),),
    )  # fmt: skip
    channel.mailbox.deliver(GARBLED)  # the same sender, a quarter of an hour later
    handled = await channel.with_limits(max_message_bytes=2000).turn()
    assert [h.status for h in handled] == ["refused", "refused"]
    assert [m["To"] for m in channel.inbox.messages] == ["siti.rahma@yahoo.co.id"]
    assert [e["answered"] for e in await audited(channel)] == [True, False]

    channel.clock.advance(timedelta(hours=1))  # the next hour: told again
    channel.customer_writes(
        "Video lagi.", sender="siti.rahma@yahoo.co.id", attachments=(("paket2.mov", b"x" * 4000),)
    )
    await channel.with_limits(max_message_bytes=2000).turn()
    assert len(channel.inbox.messages) == 2


async def test_a_mail_bomb_is_one_staff_notice_edited_in_place(channel: Channel) -> None:
    bomb = channel.with_limits(messages_per_hour=2)
    for n in range(6):
        channel.customer_writes(f"Halo ({n})", sender="bomber@example.net", subject=f"Halo {n}")
    handled = await bomb.turn()
    assert [h.status for h in handled] == ["ticketed"] * 2 + ["limited"] * 4
    [notice] = await staff_notices(channel)  # not sent yet: it leaves with the newest count
    assert "too many from one sender (mail bomb): 4" in notice["payload"]["text"]
    assert "bomber@example.net (4)" in notice["payload"]["text"]

    # the notice is in the group now: more of the storm edits it, one waiting edit at a time
    await channel.pool.execute(
        "UPDATE outbox SET status = 'sent', message_id = 77, sent_at = $2 WHERE id = $1",
        notice["id"], channel.clock.now(),
    )  # fmt: skip
    for n in range(6, 9):
        channel.customer_writes(f"Halo ({n})", sender="bomber@example.net", subject=f"Halo {n}")
    await bomb.read()
    rows = await staff_notices(channel)
    assert [(r["kind"], r["ref_id"]) for r in rows] == [("text", None), ("edit", notice["id"])]
    assert "mail bomb): 7" in rows[1]["payload"]["text"]
    answers = [m for m in channel.inbox.messages if m["To"] == "bomber@example.net"]
    assert len(answers) == 2 + 1  # two acknowledgements, one "slow down" for the whole storm
    assert len(await audited(channel)) == 7

    # an hour after the notice began, a new refusal starts a new notice
    channel.clock.advance(timedelta(hours=1, minutes=1))
    channel.mailbox.deliver((FIXTURES / "out_of_office.eml").read_bytes())
    await channel.read()
    rows = await staff_notices(channel)
    assert [r["kind"] for r in rows] == ["text", "edit", "text"]
    assert "refused since 08:01: 1" in rows[2]["payload"]["text"]
