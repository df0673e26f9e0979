"""One customer floods (200 messages a minute) while another writes normally: the normal
customer's latency, from their message to its copy in their ticket's topic, beside the same
customer's latency in the same run without the flood. Goal: at most 2× (exit 1 otherwise).

Production limits at the door and the desk (the flood is refused at intake); Telegram's group
pacing opened up so the figure is the bot's own handling.

    .venv/bin/python bench/flood.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from aiohttp import web

from bench.common import UNLIMITED
from bench.stores import start_stores
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
from services.tickets import desk
from services.tickets.config import DeskConfig

ADMIN, NORMAL, FLOODER = 7001, 2001, 2002
GOAL = 2.0
EVERY = 4  # seconds between the normal customer's messages


async def normal_latencies(
    tg: EmulatorClient, support_chat: int, seconds: float, tag: str
) -> list[float]:
    """The normal customer writes every few seconds (under the door's 20 a minute); each
    message is timed until its copy shows in the topic."""
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    since = max((m["message_id"] for m in await tg.messages(support_chat)), default=0)

    async def watch() -> None:
        nonlocal since
        while len(seen) < len(range(0, int(seconds), EVERY)):
            for m in await tg.messages(support_chat, since=since):
                since = max(since, m["message_id"])
                for word in (m.get("text") or "").split():
                    if word.startswith(tag) and word not in seen:
                        seen[word] = time.perf_counter()
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    for n in range(0, int(seconds), EVERY):
        token = f"{tag}{n}"
        sent[token] = time.perf_counter()
        await tg.send_text(NORMAL, NORMAL, f"pesan {token}")
        await asyncio.sleep(EVERY)
    await asyncio.wait_for(watcher, 120)
    return [seen[t] - sent[t] for t in sent]


async def flood(tg: EmulatorClient, seconds: float) -> None:
    for n in range(int(seconds * 200 / 60)):
        await tg.send_text(FLOODER, FLOODER, f"spam {n}")
        await asyncio.sleep(60 / 200)


async def main(args: argparse.Namespace) -> int:
    stores = await start_stores("qc-bench-flood-")
    root, pg, redis = stores.work, stores.pg, stores.redis
    async with TelegramEmulator(EmulatorConfig(limits=LimitConfig(enabled=False))) as emulator:
        tg = EmulatorClient(emulator.base_url)
        try:
            await tg.create_user(ADMIN, first_name="Rina", language_code="id")
            for uid in (NORMAL, FLOODER):
                await tg.create_user(uid, first_name=f"Pelanggan {uid}", language_code="id")
            chat = await tg.create_chat(
                "QuickCart Support", is_forum=True, members=[ADMIN], admins=[ADMIN]
            )
            settings = Settings(
                BOT_TOKEN=EmulatorConfig().token, TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=pg.url, REDIS_URL=redis.url(0), DATA_DIR=root / "data",
                ADMIN_IDS=[ADMIN], ADMIN_CHAT_ID=chat["id"], SUPPORT_CHAT_ID=chat["id"],
                HTTP_PORT=0, _env_file=None,  # type: ignore[call-arg]
            )  # fmt: skip
            rules = Rules({"delivery": {"limits": UNLIMITED}})
            app = create_app(settings, rules=rules)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                cfg = DeskConfig.build(
                    support_chat_id=chat["id"], timezone="Asia/Jakarta", staff_locale="id",
                    rules=rules,
                )  # fmt: skip
                for uid in (NORMAL, FLOODER):
                    person = await users.touch(app[POOL], uid, first_name=f"Pelanggan {uid}")
                    await desk.open_ticket(
                        app[POOL], app[REDIS], cfg, SystemClock(), customer=person,
                        category=Category.ORDER, description="Pesanan belum sampai",
                    )  # fmt: skip
                await asyncio.sleep(2)  # topics created
                calm = await normal_latencies(tg, chat["id"], args.seconds, "calm-")
                flooding = asyncio.create_task(flood(tg, args.seconds))
                stormy = await normal_latencies(tg, chat["id"], args.seconds, "storm-")
                await flooding
                try:
                    states = await app[POOL].fetch(
                        "SELECT state, count(*) AS n FROM inbox WHERE conversation = $1 "
                        "GROUP BY state",
                        str(FLOODER),
                    )
                except asyncpg.UndefinedTableError:  # a build from before the inbox
                    states = []
            finally:
                await runner.cleanup()
        finally:
            await tg.close()
            await stores.stop()
    p50_calm, p50_storm = statistics.median(calm), statistics.median(stormy)
    ratio = p50_storm / p50_calm
    print(
        f"normal customer, a message every {EVERY} s for {args.seconds:.0f} s, "
        "beside a flooder at 200 msg/min"
    )
    print(f"  without flood: p50 {p50_calm * 1000:7.1f} ms  max {max(calm) * 1000:7.1f} ms")
    print(f"  with flood:    p50 {p50_storm * 1000:7.1f} ms  max {max(stormy) * 1000:7.1f} ms")
    print(f"  flooder's updates: { {r['state']: r['n'] for r in states} }")
    print(f"  ratio {ratio:.2f}× (goal ≤ {GOAL:.1f}×): {'ok' if ratio <= GOAL else 'MISSED'}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    sys.exit(asyncio.run(main(parser.parse_args())))
