"""A delivery worker in its own process, for the crash and two-replica tests.

    python -m tests.integration.delivery.worker_process DB_URL REDIS_URL API_BASE TOKEN

Prints "ready" once it listens; runs until SIGTERM (graceful) or SIGKILL (the crash).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from redis.asyncio import Redis

from bot.sender import AiogramSender
from services.clock import SystemClock
from services.delivery import DeliveryWorker
from services.storage.db import create_pool
from tests.bots import make_bot
from tests.integration.delivery.conftest import FAST


async def main(db_url: str, redis_url: str, api_base: str, token: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=10)
    redis = Redis.from_url(redis_url)
    bot = make_bot(api_base, token)
    worker = DeliveryWorker(pool, redis, AiogramSender(bot), SystemClock(), FAST)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(worker.stop()))
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)
    print("ready", worker.name, flush=True)
    await task
    await bot.session.close()
    await redis.aclose()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
