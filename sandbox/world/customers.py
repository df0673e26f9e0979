"""Demo customers in the Telegram emulator: people the world panel sends to the bot, for the two
CRITICAL_METRICS that live in the bot's own records. The panel never writes the bot's tables;
these customers go through the door every customer uses:

- `complaints`: a few customers write a complaint in their private chat and open a ticket the
  way a person does (the bot offers one; they press its buttons: open, the category, skip the
  reference, send). Their tickets raise the user complaint rate (tickets in 24 h per active
  QuickCart customer; the seed alerts above 0.5 %, four tickets over the demo's 400 customers).
- `blockers`: customers who open a ticket the same way and block the bot at once, before its
  "your ticket is open" reaches them: Telegram refuses that message for good (403 "bot was
  blocked by the user"), so the bot's own delivery rate over the last hour drops (the seed
  alerts below 95 %).

Imports nothing of the bot: buttons are pressed as a person would, by what they show.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sandbox.telegram.models import Message
from sandbox.telegram.people import ActionError, user_presses, user_sends
from sandbox.telegram.runtime import Runtime

FIRST_ID = 7_100_000_001  # demo customers' Telegram ids: far from the cast's
STEP_TIMEOUT_S = 15.0
COMPLAINERS = 4
BLOCKERS = 8

COMPLAINTS = (
    "Pesanan saya belum sampai padahal sudah 6 hari, nomor resi tidak bisa dilacak.",
    "Barang yang datang rusak, kemasannya penyok. Mohon ganti.",
    "Saya dikirimi ukuran yang salah dan belum ada jawaban dari toko.",
    "My order was marked delivered but I never received it.",
    "Paket saya hilang, kurir bilang sudah diantar tapi tidak ada di rumah.",
    "The parcel arrived half empty, two items are missing.",
)
# The category a complainer picks (the label in either language the bot speaks).
CATEGORY_WORDS = ("order", "pesanan")


class CustomerError(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    user_id: int
    ticket_sent: bool
    blocked: bool


def next_ids(rt: Runtime, count: int) -> list[int]:
    taken = [uid for uid in rt.world.users if uid >= FIRST_ID]
    start = max(taken) + 1 if taken else FIRST_ID
    return list(range(start, start + count))


def _buttons(message: Message) -> list[dict[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return [b for row in rows for b in row if b.get("callback_data")]


async def _bot_asks(rt: Runtime, chat_id: int, after: int, *, buttons: bool = True) -> Message:
    """The bot's next message (with buttons) in this chat, after message id `after`."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        chat = rt.world.chats.get(chat_id)
        if chat is not None:
            for message in sorted(chat.messages.values(), key=lambda m: m.message_id):
                if (
                    message.message_id > after
                    and message.from_id == rt.world.bot.id
                    and not message.deleted
                    and (_buttons(message) or not buttons)
                ):
                    return message
        await asyncio.sleep(0.05)
    raise CustomerError(f"the bot did not answer customer {chat_id} within {STEP_TIMEOUT_S:.0f} s")


def _press(rt: Runtime, user_id: int, message: Message, words: tuple[str, ...] = ()) -> None:
    """The button showing one of `words`, else the first one (the bot's suggested answer)."""
    buttons = _buttons(message)
    chosen = next(
        (b for b in buttons if any(w in str(b.get("text", "")).lower() for w in words)),
        buttons[0],
    )
    user_presses(
        rt, user_id=user_id, chat_id=user_id, message_id=message.message_id,
        data=str(chosen["callback_data"]),
    )  # fmt: skip


async def open_ticket(rt: Runtime, user_id: int, text: str, *, block: bool = False) -> Outcome:
    """One customer writes `text` and takes the bot's offer of a ticket through to Send; with
    `block`, they block the bot the moment they pressed Send."""
    rt.world.upsert_user(
        user_id, first_name=f"Pelanggan Demo {user_id - FIRST_ID + 1}", language_code="id"
    )
    sent = user_sends(rt, user_id=user_id, chat_id=user_id, text=text)
    offer = await _bot_asks(rt, user_id, sent.message_id)  # "open a ticket with this?"
    _press(rt, user_id, offer)
    category = await _bot_asks(rt, user_id, offer.message_id)
    _press(rt, user_id, category, CATEGORY_WORDS)
    reference = await _bot_asks(rt, user_id, category.message_id)  # Skip
    _press(rt, user_id, reference)
    confirm = await _bot_asks(rt, user_id, reference.message_id)  # Send
    _press(rt, user_id, confirm)
    if block:
        rt.world.users[user_id].blocked_bot = True
    else:  # "your ticket QC-… is open": the customer saw it was taken
        await _bot_asks(rt, user_id, confirm.message_id, buttons=False)
    return Outcome(user_id, True, block)


async def wave(rt: Runtime, count: int, *, block: bool) -> list[Outcome]:
    """`count` new demo customers at once, each in their own chat."""
    ids = next_ids(rt, count)
    for user_id in ids:  # taken now, so a second wave meanwhile picks other ids
        rt.world.upsert_user(user_id, first_name=f"Pelanggan Demo {user_id - FIRST_ID + 1}")
    jobs = [
        open_ticket(rt, user_id, COMPLAINTS[n % len(COMPLAINTS)], block=block)
        for n, user_id in enumerate(ids)
    ]
    try:
        return list(await asyncio.gather(*jobs))
    except ActionError as exc:
        raise CustomerError(str(exc)) from None


def view(rt: Runtime) -> dict[str, int]:
    demo = [u for uid, u in rt.world.users.items() if uid >= FIRST_ID]
    return {"customers": len(demo), "blocked": sum(1 for u in demo if u.blocked_bot)}
