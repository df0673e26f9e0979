"""Feed customer messages into open tickets through the Telegram emulator (rate limits off) and
print messages/s and p50/p95 from a customer's message to its copy in the ticket's topic, and
the SQL statements and Redis commands per message; beside it, the same figures for a bare
aiogram echo handler on the same emulator, same run.

    .venv/bin/python bench/support_throughput.py [--messages 2000] [--customers 20]

Goals (issue 15; exit 1 when one is missed): throughput >= 0.5x echo, p95 <= 2x echo's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiohttp import web

from bot.embedded import start_postgres, start_redis
from bot.keys import POOL, REDIS
from bot.runtime import create_app
from bot.settings import Settings
from sandbox.telegram.client import EmulatorClient
from sandbox.telegram.config import EmulatorConfig, LimitConfig
from sandbox.telegram.server import TelegramEmulator
from services import users
from services.classification import Category
from services.clock import SystemClock
from services.rules import Rules
from services.storage import db
from services.storage.db import QUERY_OBSERVERS
from services.tickets import desk
from services.tickets.config import DeskConfig

ADMIN = 7001
ECHO_TOKEN = "987654321:ECHO-token-for-the-bench"


class Figures:
    def __init__(self, name: str, latencies: list[float], elapsed: float, cpu: float) -> None:
        self.name = name
        self.cpu_ms = cpu * 1000 / len(latencies) if latencies else float("nan")
        self.ms = sorted(x * 1000 for x in latencies)
        self.rate = len(self.ms) / elapsed if elapsed else 0.0
        self.p50 = statistics.median(self.ms) if self.ms else float("nan")
        self.p95 = self.ms[int(len(self.ms) * 0.95) - 1] if self.ms else float("nan")

    def __str__(self) -> str:
        return (
            f"{self.name:<28} {len(self.ms):>5} msgs  {self.rate:>8.1f} msg/s  "
            f"p50 {self.p50:>7.1f} ms  p95 {self.p95:>7.1f} ms  CPU {self.cpu_ms:>5.2f} ms/msg"
        )


async def feed(
    tg: EmulatorClient, senders: list[tuple[int, int]], total: int, watch: list[int]
) -> tuple[list[float], float, float]:
    """Send `total` texts round-robin from (user, chat) pairs; time each until a bot message
    containing its token appears in one of the `watch` chats. Also the CPU this process spent
    meanwhile (the bot, the emulator and this driver: a figure the shared machine's load
    hardly moves, unlike the wall clock)."""
    sent_at: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = asyncio.Event()

    async def watcher() -> None:
        since = dict.fromkeys(watch, 0)
        while not done.is_set():
            for chat in watch:
                for m in await tg.messages(chat, since=since[chat]):
                    since[chat] = max(since[chat], m["message_id"])
                    text = m.get("text") or ""
                    for word in text.split():
                        if word.startswith("bench-") and word not in seen:
                            seen[word] = time.perf_counter()
            if len(seen) >= total:
                done.set()
            await asyncio.sleep(0.01)

    task = asyncio.create_task(watcher())
    started = time.perf_counter()
    cpu_started = time.process_time()
    gate = asyncio.Semaphore(32)

    async def one(n: int) -> None:
        user, chat = senders[n % len(senders)]
        token = f"bench-{n}"
        async with gate:
            sent_at[token] = time.perf_counter()
            await tg.send_text(user, chat, f"pesan {token} tentang pesanan")

    await asyncio.gather(*(one(n) for n in range(total)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=120)
    done.set()
    await task
    elapsed = max(seen.values(), default=time.perf_counter()) - started
    cpu = time.process_time() - cpu_started
    return [seen[t] - sent_at[t] for t in seen if t in sent_at], elapsed, cpu


REDIS_CALLS: Counter[str] = Counter()


def count_redis_round_trips() -> None:
    """Count the commands the bot's Redis clients send (a pipeline is one round trip); the
    server's own statistics would also count the commands run inside Lua scripts."""
    from redis.asyncio.client import Pipeline, Redis

    command = Redis.execute_command
    pipeline = Pipeline.execute

    async def counted_command(self: Any, *args: Any, **options: Any) -> Any:
        REDIS_CALLS[str(args[0]).lower()] += 1
        return await command(self, *args, **options)

    async def counted_pipeline(self: Any, *args: Any, **options: Any) -> Any:
        REDIS_CALLS["pipeline"] += 1
        return await pipeline(self, *args, **options)

    Redis.execute_command = counted_command  # type: ignore[method-assign]
    Pipeline.execute = counted_pipeline  # type: ignore[method-assign]


def redis_calls(_client: Any) -> dict[str, int]:
    return dict(REDIS_CALLS)


async def print_stages(pool: Any, support_chat: int) -> None:
    """Where a message waited: in the inbox (stored -> handled) and in the outbox (queued ->
    sent into its topic), p50 and p95 in ms."""
    rows = await pool.fetch(
        """
        SELECT 'inbox' AS stage,
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM handled_at - received_at)) AS p
        FROM inbox WHERE handled_at IS NOT NULL
        UNION ALL
        SELECT 'outbox',
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM sent_at - created_at))
        FROM outbox WHERE chat_id = $1 AND kind = 'text' AND sent_at IS NOT NULL
        """,
        support_chat,
    )
    print(
        "waited (p50/p95 ms):",
        ", ".join(f"{r['stage']} {r['p'][0] * 1000:.0f}/{r['p'][1] * 1000:.0f}" for r in rows),
    )


async def support_run(tg: EmulatorClient, emulator: Any, args: argparse.Namespace, root: Path,
                      support_chat: int) -> tuple[Figures, float, float]:  # fmt: skip
    pg = start_postgres(root / "pg", delete_on_stop=True)
    redis = start_redis(root / "redis")
    settings = Settings(
        BOT_TOKEN=EmulatorConfig().token, TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=pg.url, REDIS_URL=redis.url(0), DATA_DIR=root / "data",
        ADMIN_IDS=[ADMIN], ADMIN_CHAT_ID=support_chat, SUPPORT_CHAT_ID=support_chat,
        HTTP_PORT=0, _env_file=None,  # type: ignore[call-arg]
    )  # fmt: skip
    # Limits off: the desk's abuse limits, the door's flood limit and the delivery worker's
    # Telegram pacing (which in production holds one support group to 20 messages a minute).
    unlimited = {
        "private_per_second": 1e6, "private_burst": 100000, "group_per_minute": 1e9,
        "global_per_second": 1e6, "global_burst": 100000,
    }  # fmt: skip
    rules = Rules(
        {
            "support": {"limits_enabled": False},
            "delivery": {"limits": unlimited},
            "inbox": {"flood": {"updates": 1_000_000}},  # the door's flood limit too
        }
    )
    counted = [0]  # statements run by the bot's pooled connections (asyncpg's query logger)
    by_statement: Counter[str] = Counter()

    def observe(record: Any) -> None:  # cheap: it runs in the measured process, per statement
        counted[0] += 1
        by_statement[record.query] += 1

    QUERY_OBSERVERS[:] = [observe]
    app = create_app(settings, rules=rules)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        pool, redis_client = app[POOL], app[REDIS]
        cfg = DeskConfig.build(
            support_chat_id=support_chat, timezone="Asia/Jakarta", staff_locale="id", rules=rules
        )
        customers = [2000 + n for n in range(args.customers)]
        for user_id in customers:
            person = await users.touch(pool, user_id, first_name=f"Pelanggan {user_id}")
            await users.set_language(pool, user_id, "id")
            person = await users.get(pool, user_id) or person
            await desk.open_ticket(
                pool, redis_client, cfg, SystemClock(), customer=person,
                category=Category.ORDER, description="Pesanan belum sampai",
            )  # fmt: skip
        for _ in range(600):  # every topic created before the clock starts
            if not await pool.fetchval("SELECT count(*) FROM tickets WHERE topic_id IS NULL"):
                break
            await asyncio.sleep(0.05)
        redis_before = redis_calls(redis_client)
        sql_before = counted[0]
        by_statement.clear()
        latencies, elapsed, cpu = await feed(
            tg, [(c, c) for c in customers], args.messages, [support_chat]
        )
        sql = (counted[0] - sql_before) / args.messages
        redis_after = redis_calls(redis_client)
        per_command = {
            name: (calls - redis_before.get(name, 0)) / args.messages
            for name, calls in redis_after.items()
            if calls > redis_before.get(name, 0)
        }
        redis_per = sum(per_command.values())
        await print_stages(pool, support_chat)
        if args.statements:
            for query, calls in by_statement.most_common(25):
                print(f"  {calls / args.messages:5.2f}  {' '.join(query.split())[:90]}")
        top = sorted(per_command.items(), key=lambda kv: -kv[1])[:6]
        print("Redis commands per message:", ", ".join(f"{k} {v:.1f}" for k, v in top))
        return Figures("support desk (to the topic)", latencies, elapsed, cpu), sql, redis_per
    finally:
        await runner.cleanup()
        redis.stop()
        pg.stop()


async def echo_run(tg: EmulatorClient, emulator: Any, args: argparse.Namespace) -> Figures:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    bot = Bot(
        ECHO_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    )
    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        customers = [4000 + n for n in range(args.customers)]
        for user_id in customers:
            await tg.create_user(user_id, first_name="Echo", language_code="id")
        latencies, elapsed, cpu = await feed(
            tg, [(c, c) for c in customers], args.messages, customers
        )
        return Figures("bare aiogram echo", latencies, elapsed, cpu)
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot.session.close()


async def main(args: argparse.Namespace) -> bool:
    root = Path(tempfile.mkdtemp(prefix="qc-bench-support-"))
    config = EmulatorConfig(limits=LimitConfig(enabled=False), extra_tokens=(ECHO_TOKEN,))
    async with TelegramEmulator(config) as emulator:
        tg = EmulatorClient(emulator.base_url)
        try:
            await tg.create_user(ADMIN, first_name="Rina", language_code="id")
            for n in range(args.customers):
                await tg.create_user(2000 + n, first_name=f"Pelanggan {n}", language_code="id")
            chat = await tg.create_chat(
                "QuickCart Support", is_forum=True, members=[ADMIN], admins=[ADMIN]
            )
            support, sql, redis_per = await support_run(tg, emulator, args, root, chat["id"])
            echo = await echo_run(tg, emulator, args)
        finally:
            await tg.close()
    rate = support.rate / echo.rate if echo.rate else 0.0
    p95 = support.p95 / echo.p95 if echo.p95 else float("inf")
    print(f"{args.messages} customer messages, {args.customers} customers, limits off")
    print(support)
    print(echo)
    print(f"round trips per message:     {sql:.1f} SQL statements, {redis_per:.1f} Redis")
    print(f"CPU per message vs echo:     {support.cpu_ms / echo.cpu_ms:.2f}x (this process)")
    print(f"throughput vs echo:          {rate:.2f}x (goal >= 0.5x)")
    print(f"p95 vs echo p95:             {p95:.1f}x (goal <= 2x)")
    ok = rate >= 0.5 and p95 <= 2.0
    print("goals met" if ok else "GOAL MISSED")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument(
        "--statements", action="store_true", help="print the SQL statements per message"
    )
    parser.add_argument(
        "--asyncpg-reset",
        action="store_true",
        help="reset every pooled connection on release, as asyncpg does by default (the before)",
    )
    parsed = parser.parse_args()
    count_redis_round_trips()
    if parsed.asyncpg_reset:

        async def full_reset(conn: Any) -> None:
            await conn.execute(conn.get_reset_query())

        db._reset_if_changed = full_reset
    sys.exit(0 if asyncio.run(main(parsed)) else 1)
