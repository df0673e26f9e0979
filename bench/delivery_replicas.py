"""Replicas benchmark: one support group with 20 topics, drained by 1 and then 2 worker
processes on one database (issue 15).

    .venv/bin/python bench/delivery_replicas.py [--messages 2000] [--topics 20] [--latency 0.02]

Embedded PostgreSQL + Redis, the Telegram emulator with its limits off and `--latency` seconds
added to every sendMessage (Telegram's round trip: what a worker waits for, not what it
computes), the real delivery worker in separate processes. The topics are created by the
workers (create_topic rows, the messages queued behind them as the desk queues them). Prints
messages/s for each run, the ratio, duplicates and whether every topic kept its order.

Goals (exit 1 when one is missed): 0 duplicates, every topic in order in both runs, and two
processes drain the group faster than one (ratio >= 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench.common import UNLIMITED as UNLIMITED_PACING  # noqa: E402
from bench.common import errors_only  # noqa: E402
from bench.stores import start_stores  # noqa: E402
from bot.sender import AiogramSender  # noqa: E402
from sandbox.telegram import (  # noqa: E402
    EmulatorClient,
    EmulatorConfig,
    LimitConfig,
    TelegramEmulator,
)
from services.clock import SystemClock  # noqa: E402
from services.delivery import DeliveryConfig, DeliveryWorker, Limits  # noqa: E402
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage, enqueue  # noqa: E402
from services.storage.db import create_pool  # noqa: E402

UNLIMITED = Limits(**UNLIMITED_PACING)


async def worker_main(db_url: str, redis_url: str, api: str, token: str) -> None:
    """One replica: runs until SIGTERM."""
    errors_only()
    pool = await create_pool(db_url, min_size=2, max_size=10)
    redis = Redis.from_url(redis_url)
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    config = DeliveryConfig(limits=UNLIMITED, poll_interval=1.0)
    worker = DeliveryWorker(pool, redis, AiogramSender(bot), SystemClock(), config)
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: asyncio.ensure_future(worker.stop())
    )
    task = asyncio.create_task(worker.run())
    print("ready", flush=True)
    await task
    await bot.session.close()
    await redis.aclose()
    await pool.close()


async def one_run(
    args: argparse.Namespace, replicas: int, pg_url: str, redis_url: str, work: Path
) -> tuple[float, int, bool]:
    """(messages/s, duplicates, every topic in order) for `replicas` worker processes."""
    config = EmulatorConfig(limits=LimitConfig(enabled=False))
    async with TelegramEmulator(config) as emulator:
        tg = EmulatorClient(emulator.base_url)
        await tg.set_faults(latency=args.latency, methods=["sendMessage"])
        group = (await tg.create_chat("QuickCart Support", is_forum=True, members=[]))["id"]
        pool = await create_pool(pg_url, min_size=1, max_size=4)
        await pool.execute("TRUNCATE outbox, outbox_digests CASCADE")
        processes = []
        for _ in range(replicas):
            process = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--worker", pg_url, redis_url, emulator.base_url,
                emulator.token, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
            )  # fmt: skip
            assert process.stdout is not None
            await asyncio.wait_for(process.stdout.readline(), 120)
            processes.append(process)
        async with pool.acquire() as conn, conn.transaction():
            topics = []
            for t in range(args.topics):
                topics.append(
                    await enqueue(
                        conn,
                        OutboxMessage(
                            group, "create_topic", {"name": f"QC-{t:03d}"},
                            priority=PRIORITY_INTERACTIVE,
                        ),
                    )
                )  # fmt: skip
            for n in range(args.messages):
                t = n % args.topics
                message = OutboxMessage(
                    group, "text", {"text": f"t{t:03d}-{n:05d}"}, thread_ref=topics[t],
                    priority=PRIORITY_INTERACTIVE,
                )  # fmt: skip
                await enqueue(conn, message)
        started = time.perf_counter()  # the rows are committed: the workers start
        while await pool.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        for process in processes:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        threads = await pool.fetch(
            "SELECT id, result->>'message_thread_id' AS thread FROM outbox "
            "WHERE kind = 'create_topic' ORDER BY id"
        )
        seen: Counter[str] = Counter()
        in_order = True
        for t, record in enumerate(threads):
            held = await tg.messages(group, int(record["thread"]))
            texts = [m["text"] for m in held if m.get("text")]
            seen.update(texts)
            want = [f"t{t:03d}-{n:05d}" for n in range(t, args.messages, args.topics)]
            in_order = in_order and list(dict.fromkeys(texts)) == want
        await pool.close()
        await tg.close()
    duplicates = sum(c - 1 for c in seen.values() if c > 1)
    return args.messages / elapsed, duplicates, in_order


async def main(args: argparse.Namespace) -> bool:
    errors_only()
    stores = await start_stores("qc-replicas-")
    try:
        results = {}
        for replicas in (1, 2):
            url, redis_url = stores.pg.url, stores.redis.url(0)
            results[replicas] = await one_run(args, replicas, url, redis_url, stores.work)
    finally:
        await stores.stop()
    print(
        f"{args.messages} messages into one group of {args.topics} topics, "
        f"{args.latency * 1000:.0f} ms per send, limits off"
    )
    for replicas, (rate, duplicates, in_order) in results.items():
        print(
            f"{replicas} worker process(es): {rate:8.1f} msg/s  duplicates {duplicates}  "
            f"topics in order: {'yes' if in_order else 'NO'}"
        )
    ratio = results[2][0] / results[1][0]
    print(f"2 processes vs 1:            {ratio:.2f}x (goal >= 1.2x)")
    ok = ratio >= 1.2 and all(d == 0 and o for _, d, o in results.values())
    print("goals met" if ok else "GOAL MISSED")
    return ok


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        asyncio.run(worker_main(*sys.argv[2:6]))
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02)
    sys.exit(0 if asyncio.run(main(parser.parse_args())) else 1)
