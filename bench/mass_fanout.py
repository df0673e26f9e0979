"""Payday benchmark: a customer-facing payment incident, N customers writing within a minute,
then `/update` and Resolve fanned out to all of them, Telegram's limits on in the emulator.

    .venv/bin/python bench/mass_fanout.py [--customers 500] [--spread 55]

The real bot (`create_app`, long polling the emulator), embedded PostgreSQL + Redis. Prints
each customer's wait for the notice (p50 / p95 / max) beside the physical floor (N / 30 per
second: Telegram's overall limit), the support group's messages + edits while they wrote, each
fan-out's duration as a multiple of that floor, and lost / duplicated messages.

Goals (exit 1 when one is missed): notice p95 ≤ 20 s; ≤ 10 group messages + edits in that
minute; each fan-out ≤ 1.2 × the floor; 0 lost, 0 duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench.common import errors_only  # noqa: E402
from bench.stores import start_stores  # noqa: E402
from bot.settings import Settings  # noqa: E402
from sandbox.telegram import EmulatorClient, EmulatorConfig, TelegramEmulator  # noqa: E402
from sandbox.telegram.config import LimitConfig  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from tests.e2e.chats import desk_chats  # noqa: E402
from tests.e2e.conftest import ADMIN, World  # noqa: E402
from tests.e2e.mass_storm import payday, storm_rules  # noqa: E402


async def run(customers: int, spread: float) -> bool:
    errors_only()
    stores = await start_stores("qc-payday-")
    config = EmulatorConfig(limits=LimitConfig(enabled=True))
    try:
        async with TelegramEmulator(config) as emulator:
            tg = EmulatorClient(emulator.base_url)
            await tg.create_user(ADMIN, first_name="Rina", language_code="id")
            admin, support = await desk_chats(tg, ADMIN)
            settings = Settings(
                BOT_TOKEN=config.token, TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=stores.pg.url, REDIS_URL=stores.redis.url(0),
                DATA_DIR=stores.work / "data", ADMIN_IDS=[ADMIN],
                ADMIN_CHAT_ID=admin["id"], SUPPORT_CHAT_ID=support["id"], HTTP_PORT=0,
                DEFAULT_LOCALE="id", _env_file=None,  # type: ignore[call-arg]
            )  # fmt: skip
            world = World(
                emulator=emulator, tg=tg, settings=settings, admin_chat_id=admin["id"],
                support_chat_id=support["id"], clock=SystemClock(), rules=storm_rules(),
            )  # fmt: skip
            await world.start_bot()
            try:
                figures = await payday(world, customers, spread)
            finally:
                await world.stop_bot()
                await tg.close()
    finally:
        await stores.stop()
    for line in figures.lines():
        print(line)
    if "--verbose" in sys.argv:
        for item in figures.group_what:
            print("  group:", item)
    goals = [
        ("notice p95 ≤ 20 s", figures.notice_p95 <= 20.0),
        ("≤ 10 group messages + edits in the minute", figures.group_in_minute <= 10),
        ("/update ≤ 1.2 × floor", figures.update_seconds <= 1.2 * figures.floor),
        ("resolve ≤ 1.2 × floor", figures.resolve_seconds <= 1.2 * figures.floor),
        ("0 lost, 0 duplicated", figures.lost == 0 and figures.duplicates == 0),
    ]
    for name, ok in goals:
        print(f"{'ok  ' if ok else 'MISS'} {name}")
    return all(ok for _, ok in goals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--spread", type=float, default=55.0)
    parser.add_argument("--verbose", action="store_true", help="list the group's messages")
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(run(args.customers, args.spread)) else 1)


if __name__ == "__main__":
    main()
