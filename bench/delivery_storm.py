"""Storm benchmark: alert notifications for one admin group for 3 minutes, Telegram's limits on.

    .venv/bin/python bench/delivery_storm.py [--alerts 3600] [--spread 180]

Embedded PostgreSQL + Redis, the Telegram emulator with its Telegram-like limits (20 sends in
any rolling 60 s to a group), the real delivery worker with its default configuration. Prints
the 429s received, how long until every alert appeared in the chat (as itself or in a digest),
the most sends (and sends + edits) to the group in any rolling 60 s, and the share of the
group's budget (20 in any 60 s, edits included) used while there was a backlog.

Goals (exit 1 when one is missed): 0 × 429; at most 20 sends, edits included, in any rolling
60 s; at least 90 % of the budget used while there is a backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench.common import errors_only  # noqa: E402
from bench.stores import start_stores  # noqa: E402
from bot.sender import AiogramSender  # noqa: E402
from sandbox.telegram import EmulatorClient, EmulatorConfig, TelegramEmulator  # noqa: E402
from sandbox.telegram.ratelimit import most_in_window  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.delivery import DeliveryConfig, DeliveryWorker  # noqa: E402
from services.outbox import PRIORITY_P1, OutboxMessage, enqueue  # noqa: E402
from services.storage.db import create_pool  # noqa: E402


async def run(alerts: int, spread: float) -> bool:
    errors_only()
    stores = await start_stores("qc-storm-")
    pool = await create_pool(stores.pg.url, min_size=2, max_size=10)
    redis = Redis.from_url(stores.redis.url(0))
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
        await stores.stop()

    sends = stats["sends"].get("sendMessage", 0)
    edits = stats["calls"].get("editmessagetext", 0)
    send_times = stats["group_send_times"].get(str(group), [])
    edit_times = stats["group_edit_times"].get(str(group), [])
    both = sorted(send_times + edit_times)
    most_sends = most_in_window(send_times)
    most_both = most_in_window(both)
    # the backlog lasted from the first send until every alert was shown
    backlog = (both[-1] - both[0]) if len(both) > 1 else 0.0
    budget = 20 * (backlog / 60)
    # the last window's sends may fall in the margin the bot keeps (61 s): count whole windows
    share = len(both) / budget if budget else 0.0
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
    print(f"most in any rolling 60 s:   {most_sends} sends, {most_both} sends + edits (goal ≤ 20)")
    print(
        f"budget used with a backlog: {len(both)} sends + edits in {backlog:.0f}s = "
        f"{share:.0%} of 20 per 60 s (goal ≥ 90 %)"
    )
    ok = stats["retry_after_total"] == 0 and most_both <= 20 and share >= 0.9
    print("goals met" if ok else "GOAL MISSED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=3600)
    parser.add_argument("--spread", type=float, default=180.0, help="seconds to enqueue over")
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.alerts, args.spread)) else 1)


if __name__ == "__main__":
    main()
