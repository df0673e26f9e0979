"""Storm benchmark: 5,000 alert notifications for one admin group, Telegram's limits on.

    .venv/bin/python bench/delivery_storm.py [--alerts 5000] [--spread 30]

Embedded PostgreSQL + Redis, the Telegram emulator with its Telegram-like limits (20/min per
group), the real delivery worker with its default configuration. Prints the 429s received
(goal 0), messages sent, how long until every alert appeared in the chat (as itself or in
a digest), and the group's sending rate as a share of the 20/min limit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from loguru import logger  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bot.embedded import start_postgres, start_redis  # noqa: E402
from bot.sender import AiogramSender  # noqa: E402
from sandbox.telegram import EmulatorClient, EmulatorConfig, TelegramEmulator  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.delivery import DeliveryConfig, DeliveryWorker  # noqa: E402
from services.outbox import PRIORITY_P1, OutboxMessage, enqueue  # noqa: E402
from services.storage.db import connect, create_pool, migrate  # noqa: E402


async def run(alerts: int, spread: float) -> None:
    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    work = Path(tempfile.mkdtemp(prefix="qc-storm-"))
    pg = await asyncio.to_thread(start_postgres, work / "pg", delete_on_stop=True)
    redis_server = await asyncio.to_thread(start_redis, work / "redis")
    conn = await connect(pg.url)
    await migrate(conn)
    await conn.close()
    pool = await create_pool(pg.url, min_size=2, max_size=10)
    redis = Redis.from_url(redis_server.url(0))
    await redis.flushdb()
    try:
        async with TelegramEmulator(EmulatorConfig()) as emulator:
            tg = EmulatorClient(emulator.base_url)
            group = (await tg.create_chat("QuickCart admins", members=[])).get("id")
            session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
            bot = Bot(emulator.token, session=session)
            config = DeliveryConfig(admin_chat_id=group)
            worker = DeliveryWorker(pool, redis, AiogramSender(bot), SystemClock(), config)
            runner = asyncio.create_task(worker.run())
            started = time.monotonic()
            for n in range(alerts):
                message = OutboxMessage(
                    group,
                    "text",
                    {
                        "text": f"<b>🔥 FIRING</b> HighErrorRate checkout-{n % 40}\n"
                        f"instance pod-{n} error rate 12%",
                        "parse_mode": "HTML",
                    },
                    coalesce_key="alerts",
                    owner=f"alert_group:{n}",
                    priority=PRIORITY_P1,
                )
                await enqueue(pool, message)
                if spread > 0:
                    await asyncio.sleep(
                        max(0.0, started + spread * (n + 1) / alerts - time.monotonic())
                    )
            enqueued = time.monotonic() - started
            while True:
                left = await pool.fetchval(
                    "SELECT count(*) FROM outbox "
                    "WHERE status NOT IN ('sent', 'coalesced', 'failed')"
                )
                stale = await pool.fetchval(
                    "SELECT count(*) FROM outbox_digests "
                    "WHERE rendered_items < items OR message_id IS NULL"
                )
                if left == 0 and stale == 0:
                    break
                await asyncio.sleep(0.05)
            appeared = time.monotonic() - started
            await worker.stop()
            await runner
            stats = await tg.stats()
            counts = {
                r["status"]: r["n"]
                for r in await pool.fetch(
                    "SELECT status, count(*) AS n FROM outbox GROUP BY status"
                )
            }
            digests = await pool.fetch("SELECT items, message_id FROM outbox_digests")
            messages = await tg.messages(group)
            await tg.close()
            await bot.session.close()
    finally:
        await redis.aclose()
        await pool.close()
        await asyncio.to_thread(redis_server.stop)
        await asyncio.to_thread(pg.stop)

    sends = stats["sends"].get("sendMessage", 0)
    edits = stats["calls"].get("editmessagetext", 0)
    minutes = appeared / 60
    share = sends / (20 * minutes) if minutes else 0.0
    print(f"alerts enqueued:            {alerts} over {enqueued:.1f}s")
    print(f"429s received:              {stats['retry_after_total']}")
    print(
        f"messages sent to the group: {sends} ({len(messages)} in the chat), digest edits: {edits}"
    )
    print(f"outbox rows by status:      {counts}")
    print(f"digests:                    {[(d['items'], d['message_id']) for d in digests]}")
    print(
        f"every alert appeared after: {appeared:.1f}s from the first enqueue, "
        f"{appeared - enqueued:.1f}s after the last"
    )
    allowed = EmulatorConfig().limits.group_burst + 20 * minutes
    print(f"group sending rate:         {sends / minutes:.1f}/min = {share:.0%} of 20/min")
    print(
        f"                            {sends / allowed:.0%} of what Telegram's bucket allowed "
        f"in {appeared:.0f}s ({allowed:.0f}: burst 20 + 20/min)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--spread", type=float, default=30.0, help="seconds to enqueue over")
    args = parser.parse_args()
    asyncio.run(run(args.alerts, args.spread))


if __name__ == "__main__":
    main()
