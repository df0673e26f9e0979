"""Nothing lost at the front door: a customer's message that Telegram handed over reaches
its ticket's topic through a SIGKILL, a Redis outage and a PostgreSQL outage, in order.

The crash tests run the real `quickcart-ops run` in a subprocess (so it can be SIGKILLed)
against the emulator in this process; the outage tests stop the bot's own stores under it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from aiohttp import web

from bot.keys import INBOX, POOL
from bot.runtime import create_app, redis_client
from bot.settings import Settings
from bot.workers import CATCH_UP_ON_START
from jobs.schedule import DEFAULT_SCHEDULE
from sandbox.telegram.client import EmulatorClient
from sandbox.telegram.config import EmulatorConfig, LimitConfig
from sandbox.telegram.server import TelegramEmulator
from services import users
from services.classification import Category
from services.clock import SystemClock
from services.rules import Rules
from services.storage.db import connect, create_pool, migrate
from services.tickets import desk
from services.tickets.config import DeskConfig
from tests.cast import ADMIN
from tests.conftest import scratch_dir
from tests.e2e.chats import desk_chats
from tests.e2e.conftest import FAST_DELIVERY
from tests.e2e.stores import StoppablePostgres, StoppableRedis
from tests.net import free_port

pytestmark = pytest.mark.timeout(300)

FIRST_CUSTOMER = 3001
# Bursts are the point here: the desk's own per-customer limit and the door's flood limit
# are opened up, Telegram's pacing too (the emulator's limits are off).
RULES: dict[str, Any] = {
    "delivery": FAST_DELIVERY,
    "inbox": {"flood": {"updates": 10_000}, "poll_interval": 0.2},
    "support": {"limits_enabled": False},
}
# The crash tests' bot runs no maintenance jobs (a fresh database would catch up on all).
RULES["schedule"] = {"jobs": {name: {"enabled": False} for name in DEFAULT_SCHEDULE}}
TOKEN = re.compile(r"\bc(\d+)m(\d+)\b")


async def _tickets_for(
    db_url: str, redis_url: str, support_chat: int, customers: list[int]
) -> None:
    """Each customer with an open ticket, so what they write goes into its topic."""
    pool = await create_pool(db_url, max_size=2)
    redis = redis_client(redis_url)
    cfg = DeskConfig.build(
        support_chat_id=support_chat, timezone="Asia/Jakarta", staff_locale="id", rules=None
    )
    try:
        for uid in customers:
            person = await users.touch(pool, uid, first_name=f"Cust{uid}")
            await users.set_language(pool, uid, "id")
            await desk.open_ticket(
                pool, redis, cfg, SystemClock(), customer=person,
                category=Category.PAYMENT, description=f"ticket of {uid}",
            )  # fmt: skip
    finally:
        await redis.aclose()
        await pool.close()


async def _copies(tg: EmulatorClient, support_chat: int) -> list[list[tuple[int, int]]]:
    """Every copy the bot posted into the support group, in order: the (customer, n) of the
    customer messages each carries (one, or several folded in a storm)."""
    return [
        [(int(c), int(n)) for c, n in TOKEN.findall(message.get("text") or "")]
        for message in await tg.messages(support_chat)
        if message["from"].get("is_bot")
    ]


async def _arrived(tg: EmulatorClient, support_chat: int) -> list[tuple[int, int]]:
    """(customer, n) of every customer message copied into the support group, in the order
    they first arrived."""
    return _first_arrivals(await _copies(tg, support_chat))[0]


def _first_arrivals(
    copies: list[list[tuple[int, int]]],
) -> tuple[list[tuple[int, int]], int]:
    """The messages in order of first arrival, and how many copies were sent again whole (a
    copy in flight when the process died). A copy that repeats part of an earlier one and
    adds others would be neither: the test fails on it."""
    seen: set[tuple[int, int]] = set()
    first: list[tuple[int, int]] = []
    again = 0
    for tokens in copies:
        repeated = [t for t in tokens if t in seen]
        assert not repeated or len(repeated) == len(tokens), f"a copy half sent again: {tokens}"
        if repeated:
            again += 1
        for token in tokens:
            if token not in seen:
                seen.add(token)
                first.append(token)
    return first, again


async def _wait_all(
    tg: EmulatorClient, support_chat: int, expected: set[tuple[int, int]], timeout: float
) -> list[tuple[int, int]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = await _arrived(tg, support_chat)
        if expected <= set(got) or loop.time() > deadline:
            return got
        await asyncio.sleep(0.5)


def _check_order(got: list[tuple[int, int]]) -> int:
    """Inversions: a customer's later message in the topic before an earlier one."""
    last: dict[int, int] = {}
    inversions = 0
    for customer, n in got:
        if n < last.get(customer, -1):
            inversions += 1
        last[customer] = max(n, last.get(customer, -1))
    return inversions


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[TelegramEmulator, EmulatorClient]]:
    config = EmulatorConfig(limits=LimitConfig(enabled=False))
    async with TelegramEmulator(config) as emulator:
        tg = EmulatorClient(emulator.base_url)
        try:
            yield emulator, tg
        finally:
            await tg.close()


async def _cast(tg: EmulatorClient, customers: list[int]) -> tuple[int, int]:
    await tg.create_user(ADMIN, first_name="Adi", username="adi_admin")
    for uid in customers:
        await tg.create_user(uid, first_name=f"Cust{uid}")
    admin, support = await desk_chats(tg, ADMIN)
    return admin["id"], support["id"]


class BotProcess:
    """`quickcart-ops run` as a real process, to be SIGKILLed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], env=self.env, stdout=out, stderr=out
            )

    # The waits run in a thread: the emulator lives in this event loop, and a bot draining
    # after SIGTERM still talks to it (a blocked loop made it wait out every grace period).
    async def stop(self, how: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(how)
        await asyncio.to_thread(self.process.wait, 60)

    async def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


async def _in_flight(db_url: str) -> int:
    conn = await connect(db_url)
    try:
        handling = await conn.fetchval("SELECT count(*) FROM inbox WHERE state = 'processing'")
        sending = await conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
        return int(handling) + int(sending)
    finally:
        await conn.close()


async def _handled(db_url: str) -> int:
    conn = await connect(db_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM inbox WHERE state = 'done'"))
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("mode", "stop", "each"),
    [
        # 20 customers x 30 messages: the kill lands after 90 are handled, 510 still to come
        ("polling", signal.SIGKILL, 30),
        ("webhook", signal.SIGKILL, 30),
        # SIGTERM drains in-flight updates; a smaller burst shows it as well.
        ("polling", signal.SIGTERM, 20),
    ],
    ids=["polling-sigkill", "webhook-sigkill", "polling-sigterm"],
)
async def test_a_stop_mid_burst_loses_nothing(
    mode: str,
    stop: signal.Signals,
    each: int,
    emulator: tuple[TelegramEmulator, EmulatorClient],
    db_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    emu, tg = emulator
    customers = list(range(FIRST_CUSTOMER, FIRST_CUSTOMER + 20))
    admin_chat, support_chat = await _cast(tg, customers)
    await _tickets_for(db_url, redis_url, support_chat, customers)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(RULES))
    port = free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": emu.token,
        "TELEGRAM_API_URL": emu.base_url,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "ADMIN_IDS": str(ADMIN),
        "ADMIN_CHAT_ID": str(admin_chat),
        "SUPPORT_CHAT_ID": str(support_chat),
        "HTTP_PORT": str(port),
        "RULES_FILE": str(rules_file),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
    }
    if mode == "webhook":
        env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}"
        env["WEBHOOK_SECRET"] = "w" * 40
    bot = BotProcess(env, tmp_path / "bot.log")
    bot.start()
    try:
        # The tickets' topics exist: the bot is up and delivering.
        await tg.wait_for_message(
            support_chat, predicate=lambda m: "QC-000020" in str(m), timeout=60
        )

        async def customer(uid: int) -> None:
            for n in range(each):
                await tg.send_text(uid, uid, f"pesan c{uid}m{n:02d} pembayaran gagal")

        t0 = asyncio.get_running_loop().time()
        burst = asyncio.gather(*(customer(uid) for uid in customers))
        for _ in range(1200):  # mid-burst: some handled, most still to come
            if await _handled(db_url) >= 3 * each:
                break
            await asyncio.sleep(0.05)
        in_flight = await _in_flight(db_url)  # before SIGTERM's drain empties it
        await bot.stop(stop)
        if stop == signal.SIGKILL:
            in_flight = await _in_flight(db_url)
        await burst
        t1 = asyncio.get_running_loop().time()
        bot.start()

        expected = {(uid, n) for uid in customers for n in range(each)}
        await _wait_all(tg, support_chat, expected, timeout=150)
        copies = await _copies(tg, support_chat)
        t2 = asyncio.get_running_loop().time()
        print(f"burst+kill {t1 - t0:.1f}s, restart to all arrived {t2 - t1:.1f}s")
    finally:
        await bot.terminate()
    got, duplicates = _first_arrivals(copies)
    lost = expected - set(got)
    print(
        f"{mode}, {stop.name}: {len(expected)} sent, {len(lost)} lost, {duplicates} copies "
        f"sent twice, {in_flight} in flight"
    )
    assert not lost, f"lost {len(lost)}: {sorted(lost)[:10]}"
    assert duplicates <= in_flight
    assert _check_order(got) == 0


# --- outages with the bot running ------------------------------------------------------------


@pytest.fixture
async def own_stores() -> AsyncIterator[tuple[StoppablePostgres, StoppableRedis]]:
    # Not under pytest's tmp_path: PostgreSQL runs as another user when the tests run as root,
    # and pytest (another xdist worker, too) keeps setting its temp root back to 0700.
    root = scratch_dir("qc-outage-")
    pg = await asyncio.to_thread(StoppablePostgres, root / "pg")
    redis = StoppableRedis(root / "redis")
    await redis.start()
    try:
        admin = await asyncpg.connect(pg.url)
        await admin.execute("CREATE DATABASE qc_outage")
        await admin.close()
        conn = await connect(pg.url_for("qc_outage"))
        await migrate(conn)
        await conn.close()
        yield pg, redis
    finally:
        redis.close()
        await asyncio.to_thread(pg.close)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("store", ["redis", "postgres"])
async def test_a_store_outage_under_load_loses_nothing(
    store: str,
    own_stores: tuple[StoppablePostgres, StoppableRedis],
    emulator: tuple[TelegramEmulator, EmulatorClient],
    tmp_path: Path,
) -> None:
    pg, redis = own_stores
    emu, tg = emulator
    customers = list(range(FIRST_CUSTOMER, FIRST_CUSTOMER + 10))
    admin_chat, support_chat = await _cast(tg, customers)
    db_url = pg.url_for("qc_outage")
    await _tickets_for(db_url, redis.url, support_chat, customers)
    settings = Settings(
        BOT_TOKEN=emu.token,
        TELEGRAM_API_URL=emu.base_url,
        DATABASE_URL=db_url,
        REDIS_URL=redis.url,
        ADMIN_IDS=[ADMIN],
        ADMIN_CHAT_ID=admin_chat,
        SUPPORT_CHAT_ID=support_chat,
        DATA_DIR=tmp_path / "data",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, rules=Rules(RULES))
    app[CATCH_UP_ON_START] = False
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await tg.wait_for_message(
            support_chat, predicate=lambda m: "QC-000010" in str(m), timeout=30
        )
        sent: list[tuple[int, int]] = []

        async def write(seconds: float) -> None:
            """10 messages a second, round robin over the customers."""
            for _ in range(int(seconds * 10)):
                n = len(sent)
                uid = customers[n % len(customers)]
                await tg.send_text(uid, uid, f"tolong c{uid}m{n:04d}")
                sent.append((uid, n))
                await asyncio.sleep(0.1)

        await write(2)
        down = pg if store == "postgres" else redis
        await down.stop()
        await write(15)
        await down.start()
        await write(3)  # the first burst after recovery
        got = await _wait_all(tg, support_chat, set(sent), timeout=120)
        inbox = app[INBOX]
        assert inbox is not None
        failed = await app[POOL].fetchval("SELECT count(*) FROM inbox WHERE state = 'failed'")
    finally:
        await runner.cleanup()
    lost = set(sent) - set(got)
    print(f"{store} down 15 s: {len(sent)} sent, {len(lost)} lost")
    assert not lost, f"lost {len(lost)} of {len(sent)}: {sorted(lost)[:10]}"
    assert failed == 0
    assert _check_order(got) == 0


async def test_a_pooled_redis_connection_that_died_costs_a_retry_not_an_error(
    tmp_path: Path,
) -> None:
    """After a Redis restart every pooled connection is dead; the first command on each
    reconnects and retries instead of failing the update that made it."""
    server = StoppableRedis(tmp_path / "redis")
    await server.start()
    client = redis_client(server.url)
    try:
        # Several connections in the pool, all of them about to die.
        await asyncio.gather(*(client.set(f"k{n}", n) for n in range(8)))
        await server.stop()
        await server.start()
        values = await asyncio.gather(*(client.incr(f"fresh{n}") for n in range(8)))
        assert values == [1] * 8
    finally:
        await client.aclose()
        server.close()
