"""Feed customer messages into open tickets through the Telegram emulator (rate limits off) and
print messages/s and p50/p95 from a customer's message to its copy in the ticket's topic, and
the SQL statements and Redis commands per message; beside it, the same figures for a bare
aiogram echo handler on the same emulator, same run.

    .venv/bin/python bench/support_throughput.py [--messages 2000] [--customers 20] [--rounds 3]

The two take turns (desk, echo, desk, echo, ...) on one emulator, each round `--messages`
long, and the goals are judged on the median of the rounds' ratios: on this shared machine
one round's ratio swung from 0.35x to 0.50x with nothing changed.

Goals (issue 15; exit 1 when one is missed): throughput >= 0.5x echo, p95 <= 2x echo's, and
p50 not growing with the storm: a last round of `--long` messages (8,000) has a p50 within 2x
of the rounds' median.
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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiohttp import web

from bench.common import UNLIMITED
from bot.embedded import start_postgres, start_redis
from bot.heap import settle
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
    tg: EmulatorClient, senders: list[tuple[int, int]], total: int, watch: list[int], label: str
) -> tuple[list[float], float, float, int]:
    """Send `total` texts round-robin from (user, chat) pairs; time each until a bot message
    containing its token appears in one of the `watch` chats. Also the CPU this process spent
    meanwhile (the bot, the emulator and this driver: a figure the shared machine's load
    hardly moves, unlike the wall clock), and how many bot messages carried the texts (a
    storm's copies fold several into one)."""
    sent_at: dict[str, float] = {}
    seen: dict[str, float] = {}
    carriers = [0]
    done = asyncio.Event()

    since = {chat: max((m["message_id"] for m in await tg.messages(chat)), default=0)
             for chat in watch}  # fmt: skip

    async def watcher() -> None:
        while not done.is_set():
            for chat in watch:
                for m in await tg.messages(chat, since=since[chat]):
                    since[chat] = max(since[chat], m["message_id"])
                    text = m.get("text") or ""
                    carried = False
                    for word in text.split():
                        if word in sent_at and word not in seen:
                            seen[word] = time.perf_counter()
                            carried = True
                    carriers[0] += carried
            if len(seen) >= total:
                done.set()
            await asyncio.sleep(0.01)

    task = asyncio.create_task(watcher())
    started = time.perf_counter()
    cpu_started = time.process_time()
    gate = asyncio.Semaphore(32)

    async def one(n: int) -> None:
        user, chat = senders[n % len(senders)]
        token = f"bench-{label}-{n}"
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
    return [seen[t] - sent_at[t] for t in seen if t in sent_at], elapsed, cpu, carriers[0]


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


async def print_stages(pool: Any, support_chat: int, since: Any) -> None:
    """Where this round's messages waited: in the inbox (stored -> handled) and in the outbox
    (queued -> sent into its topic), p50 and p95 in ms."""
    rows = await pool.fetch(
        """
        SELECT 'inbox' AS stage,
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM handled_at - received_at)) AS p
        FROM inbox WHERE handled_at IS NOT NULL AND received_at >= $2
        UNION ALL
        SELECT 'outbox',
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM sent_at - created_at))
        FROM outbox
        WHERE chat_id = $1 AND kind = 'text' AND sent_at IS NOT NULL AND created_at >= $2
        """,
        support_chat,
        since,
    )
    print(
        "  waited (p50/p95 ms):",
        ", ".join(
            f"{r['stage']} {r['p'][0] * 1000:.0f}/{r['p'][1] * 1000:.0f}" if r["p"] else "none"
            for r in rows
        ),
    )


@dataclass(frozen=True)
class DeskRound:
    """One round's figures for the desk, with its round trips per message."""

    figures: Figures
    sql: float
    redis: float


Round = Callable[[str, int], Awaitable[Any]]


@contextlib.asynccontextmanager
async def desk_side(tg: EmulatorClient, emulator: Any, args: argparse.Namespace, root: Path,
                    support_chat: int) -> AsyncIterator[Round]:  # fmt: skip
    """The bot with its tickets open; yields a round: feed `--messages` into the topics."""
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
    rules = Rules(
        {
            "support": {"limits_enabled": False},
            "delivery": {"limits": UNLIMITED},
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
    if args.settle_heap:  # as `quickcart-ops run` does; the echo, in this process, gains too
        app.on_startup.append(settle)
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

        async def one_round(label: str, messages: int) -> DeskRound:
            since = await pool.fetchval("SELECT now()")
            redis_before = dict(REDIS_CALLS)
            sql_before = counted[0]
            by_statement.clear()
            latencies, elapsed, cpu, copies = await feed(
                tg, [(c, c) for c in customers], messages, [support_chat], label
            )
            sql = (counted[0] - sql_before) / messages
            per_command = {
                name: (calls - redis_before.get(name, 0)) / messages
                for name, calls in REDIS_CALLS.items()
                if calls > redis_before.get(name, 0)
            }
            await print_stages(pool, support_chat, since)
            if args.statements:
                for query, calls in by_statement.most_common(25):
                    print(f"  {calls / messages:5.2f}  {' '.join(query.split())[:90]}")
            top = sorted(per_command.items(), key=lambda kv: -kv[1])[:6]
            print("  Redis commands per message:", ", ".join(f"{k} {v:.1f}" for k, v in top))
            print(f"  copies in the topics: {copies} messages carried the {messages}")
            figures = Figures("support desk (to the topic)", latencies, elapsed, cpu)
            return DeskRound(figures, sql, sum(per_command.values()))

        yield one_round
    finally:
        await runner.cleanup()
        redis.stop()
        pg.stop()


@contextlib.asynccontextmanager
async def echo_side(
    tg: EmulatorClient, emulator: Any, args: argparse.Namespace
) -> AsyncIterator[Round]:
    """A bare aiogram echo handler polling the same emulator; yields a round."""
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    bot = Bot(
        emulator.config.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)),
    )
    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        customers = [4000 + n for n in range(args.customers)]
        for user_id in customers:
            await tg.create_user(user_id, first_name="Echo", language_code="id")

        async def one_round(label: str, messages: int) -> Figures:
            latencies, elapsed, cpu, _ = await feed(
                tg, [(c, c) for c in customers], messages, customers, label
            )
            return Figures("bare aiogram echo", latencies, elapsed, cpu)

        yield one_round
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot.session.close()


async def main(args: argparse.Namespace) -> bool:
    root = Path(tempfile.mkdtemp(prefix="qc-bench-support-"))
    config = EmulatorConfig(limits=LimitConfig(enabled=False))
    rates: list[float] = []
    p95s: list[float] = []
    desks: list[DeskRound] = []
    print(f"{args.messages} customer messages a round, {args.customers} customers, limits off")
    # Two emulators of one configuration, in this process: the echo's token would be an alias
    # of the desk's on one emulator (one update queue), and both bots stay up between turns.
    async with TelegramEmulator(config) as emulator, TelegramEmulator(config) as echo_emulator:
        tg = EmulatorClient(emulator.base_url)
        echo_tg = EmulatorClient(echo_emulator.base_url)
        try:
            await tg.create_user(ADMIN, first_name="Rina", language_code="id")
            for n in range(args.customers):
                await tg.create_user(2000 + n, first_name=f"Pelanggan {n}", language_code="id")
            chat = await tg.create_chat(
                "QuickCart Support", is_forum=True, members=[ADMIN], admins=[ADMIN]
            )
            async with (
                desk_side(tg, emulator, args, root, chat["id"]) as desk_round,
                echo_side(echo_tg, echo_emulator, args) as echo_round,
            ):
                for n in range(1, args.rounds + 1):
                    print(f"round {n}")
                    support = await desk_round(f"d{n}", args.messages)
                    echo = await echo_round(f"e{n}", args.messages)
                    desks.append(support)
                    rates.append(support.figures.rate / echo.rate if echo.rate else 0.0)
                    p95s.append(support.figures.p95 / echo.p95 if echo.p95 else float("inf"))
                    print(f"  {support.figures}")
                    print(f"  {echo}")
                    cpu = support.figures.cpu_ms / echo.cpu_ms
                    print(f"  throughput {rates[-1]:.2f}x echo, p95 {p95s[-1]:.1f}x echo's, "
                          f"CPU per message {cpu:.2f}x echo's (this process)")  # fmt: skip
                if args.long:
                    print(f"long round: {args.long} messages")
                    long_desk = await desk_round("dl", args.long)
                    long_echo = await echo_round("el", args.long)
                    print(f"  {long_desk.figures}")
                    print(f"  {long_echo}")
        finally:
            await tg.close()
            await echo_tg.close()
    sql = statistics.median(d.sql for d in desks)
    redis_per = statistics.median(d.redis for d in desks)
    rate, p95 = statistics.median(rates), statistics.median(p95s)
    print(f"round trips per message:     {sql:.1f} SQL statements, {redis_per:.1f} Redis")
    print(f"throughput vs echo:          {rate:.2f}x median of {args.rounds} (goal >= 0.5x)")
    print(f"p95 vs echo p95:             {p95:.1f}x median of {args.rounds} (goal <= 2x)")
    ok = rate >= 0.5 and p95 <= 2.0
    if args.long:
        # The p50 of a backlog that grows with the storm grows with it: 4x the messages, 4x
        # the p50. Not growing: the long round's p50 within 2x of the rounds' median.
        p50 = statistics.median(d.figures.p50 for d in desks)
        growth = long_desk.figures.p50 / p50
        print(f"p50 at {args.long} vs {args.messages}:   {growth:.1f}x "
              f"({long_desk.figures.p50:.0f} vs {p50:.0f} ms; echo {long_echo.p50:.0f} ms; "
              f"goal <= 2x)")  # fmt: skip
        ok = ok and growth <= 2.0
    print("goals met" if ok else "GOAL MISSED")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="desk and echo take turns")
    parser.add_argument(
        "--long", type=int, default=8000, help="messages of a last round whose p50 is compared "
        "with the rounds' (0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--settle-heap",
        action="store_true",
        help="freeze the heap once the desk is up, as `quickcart-ops run` does (bot/heap.py); "
        "the echo shares this process and gains as much, so it is off for the ratios",
    )
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
