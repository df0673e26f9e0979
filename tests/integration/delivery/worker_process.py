"""A delivery worker in its own process, for the crash and two-replica tests.

    python -m tests.integration.delivery.worker_process DB_URL REDIS_URL API_BASE TOKEN [ANSWERS]

Prints "ready" once it listens; runs until SIGTERM (graceful) or SIGKILL (the crash). With
ANSWERS, it is also the process that handles updates: it queues that many answers, each in a
transaction of its own, to the chats in ANSWER_CHATS in turn, and sends each at once after its
commit (DeliveryWorker.express), as bot/intake.py does after a handler.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from redis.asyncio import Redis

from bot.sender import AiogramSender
from services import outbox
from services.clock import SystemClock
from services.delivery import DeliveryWorker
from services.storage.db import create_pool
from tests.bots import make_bot
from tests.integration.delivery.conftest import FAST

ANSWER_CHATS = [3100 + n for n in range(20)]


async def answer(worker: DeliveryWorker, pool: Any, total: int) -> None:
    for n in range(total):
        with outbox.noting_answers() as queued:
            async with pool.acquire() as conn, conn.transaction():
                chat = ANSWER_CHATS[n % len(ANSWER_CHATS)]
                await outbox.send_text(
                    conn, chat, {"text": f"a{n:04d}"}, priority=outbox.PRIORITY_INTERACTIVE
                )
        await worker.express(queued)
        await asyncio.sleep(0.005)  # updates arrive over time, not all in one instant


async def main(db_url: str, redis_url: str, api_base: str, token: str, answers: str = "") -> None:
    pool = await create_pool(db_url, min_size=1, max_size=10)
    redis = Redis.from_url(redis_url)
    bot = make_bot(api_base, token)
    # Answering, the loop has two slots: the other conversations' answers go at once.
    config = FAST.model_copy(update={"max_in_flight": 2}) if answers else FAST
    worker = DeliveryWorker(pool, redis, AiogramSender(bot), SystemClock(), config)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(worker.stop()))
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)
    print("ready", worker.name, flush=True)
    if answers:
        await answer(worker, pool, int(answers))
    await task
    await bot.session.close()
    await redis.aclose()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
