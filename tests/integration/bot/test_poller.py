"""Long polling reads Telegram's answer as JSON and stores each update as Telegram sent it
(bot/intake.Poller, bot/botapi_json), against the emulator and real PostgreSQL: a getUpdates
that fails is retried and confirms nothing, and every update is stored once."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from bot.intake import Poller
from sandbox.telegram import EmulatorClient, TelegramEmulator
from services.inbox.config import InboxConfig
from tests.bots import make_bot
from tests.cast import ALICE
from tests.waiting import eventually

TEXTS = ["halo <&> 'kak'", "pesanan 🚚 belum sampai — ñ", "x" * 4096]


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def wake(self) -> None:
        self.times += 1


async def test_a_failing_get_updates_is_retried_and_every_update_stored_once_as_sent(
    pool: asyncpg.Pool, emulator: TelegramEmulator
) -> None:
    bot = make_bot(emulator.base_url, emulator.token)
    woken = Woken()
    config = InboxConfig(backoff_base=0.05, backoff_cap=0.1)
    poller = Poller(bot, pool, woken, config, ["message"], timeout=1)  # type: ignore[arg-type]
    async with EmulatorClient(emulator.base_url) as tg:
        await tg.create_user(ALICE, "Alice", started=True)
        await tg.set_faults(error_rate=1.0, error_status=502, methods=["getUpdates"])
        running = asyncio.create_task(poller.run())
        try:
            sent = [await tg.send_text(ALICE, ALICE, text) for text in TEXTS]
            await eventually("getUpdates failing a few times", lambda: _failed_thrice(tg))
            assert await pool.fetchval("SELECT count(*) FROM inbox") == 0
            await tg.set_faults(error_rate=0.0)
            rows = await eventually("every update stored", lambda: _stored(pool, len(TEXTS)))
            await tg.send_text(ALICE, ALICE, "satu lagi")  # polled past the first ones
            await eventually("the next one stored", lambda: _stored(pool, len(TEXTS) + 1))
        finally:
            await poller.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(running, 10)
            await bot.session.close()
    assert [r["payload"]["message"]["text"] for r in rows] == TEXTS
    assert [r["payload"]["message"]["message_id"] for r in rows] == [m["message_id"] for m in sent]
    assert all(r["payload"]["message"]["from"]["id"] == ALICE for r in rows)
    assert woken.times >= 2
    assert await pool.fetchval("SELECT count(DISTINCT update_id) FROM inbox") == len(TEXTS) + 1


async def _failed_thrice(tg: EmulatorClient) -> bool:
    return int((await tg.stats())["faults_injected_total"]) >= 3


async def _stored(pool: asyncpg.Pool, count: int) -> list[asyncpg.Record] | None:
    rows = await pool.fetch("SELECT update_id, payload FROM inbox ORDER BY update_id")
    return rows if len(rows) == count else None
