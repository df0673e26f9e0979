"""A SIGKILL in the middle of an `/update` fan-out: the real `quickcart-ops run` (a subprocess,
Telegram's limits on in the emulator so the fan-out takes seconds) is killed after about a
third of the customers got the update; after the restart every customer has it, and a
customer has it twice at most for the rows that were in flight at the kill (printed)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobs.schedule import DEFAULT_SCHEDULE
from sandbox.telegram.client import EmulatorClient
from sandbox.telegram.config import EmulatorConfig, LimitConfig
from sandbox.telegram.server import TelegramEmulator
from services.clock import SystemClock
from services.escalation import incidents
from services.escalation.context import make_context
from services.massincident import declare
from services.massincident.config import MassContext
from services.rules import Rules
from services.storage.db import connect, create_pool
from tests.e2e.chats import desk_chats
from tests.e2e.test_nothing_lost import BotProcess
from tests.net import free_port

pytestmark = pytest.mark.timeout(300)

ADMIN = 7001
FIRST = 8001
CUSTOMERS = 150
RULES: dict[str, Any] = {
    "inbox": {"flood": {"updates": 10_000}, "poll_interval": 0.2},
    "schedule": {"jobs": {name: {"enabled": False} for name in DEFAULT_SCHEDULE}},
}


async def _declared(db_url: str, admin_chat: int, support_chat: int) -> None:
    """A customer-facing payment incident."""
    pool = await create_pool(db_url, max_size=4)
    clock = SystemClock()
    ctx = make_context(
        Rules(RULES), timezone="Asia/Jakarta", admin_chat_id=admin_chat,
        support_chat_id=support_chat, default_locale="id",
    )  # fmt: skip
    mctx = MassContext(ctx)
    try:
        opened = await incidents.open_incident(
            pool, clock, ctx, source="staff", title="Pakasir: payments failing", priority="P1"
        )
        await declare.declare(pool, clock, mctx, opened.incident.ticket_id, None,
                              categories=("payment",))  # fmt: skip
    finally:
        await pool.close()


async def _count(db_url: str, sql: str) -> int:
    conn = await connect(db_url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _updates(tg: EmulatorClient) -> dict[int, int]:
    got: dict[int, int] = {}
    for i in range(CUSTOMERS):
        uid = FIRST + i
        got[uid] = sum(1 for m in await tg.messages(uid) if "📣" in (m.get("text") or ""))
    return got


async def test_a_sigkill_mid_update_fan_out_delivers_each_once(
    db_url: str, redis_url: str, tmp_path: Path
) -> None:
    config = EmulatorConfig(limits=LimitConfig(enabled=True))
    async with TelegramEmulator(config) as emu:
        tg = EmulatorClient(emu.base_url)
        try:
            await tg.create_user(ADMIN, first_name="Rina")
            for i in range(CUSTOMERS):
                await tg.create_user(FIRST + i, first_name=f"C{FIRST + i}")
            admin, support = await desk_chats(tg, ADMIN)
            await _declared(db_url, admin["id"], support["id"])
            rules_file = tmp_path / "rules.yaml"
            rules_file.write_text(yaml.safe_dump(RULES))
            env = {
                **os.environ,
                "BOT_TOKEN": emu.token, "TELEGRAM_API_URL": emu.base_url,
                "DATABASE_URL": db_url, "REDIS_URL": redis_url, "ADMIN_IDS": str(ADMIN),
                "ADMIN_CHAT_ID": str(admin["id"]), "SUPPORT_CHAT_ID": str(support["id"]),
                "HTTP_PORT": str(free_port()), "RULES_FILE": str(rules_file),
                "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING",
            }  # fmt: skip
            bot = BotProcess(env, tmp_path / "bot.log")
            bot.start()
            try:
                card = await tg.wait_for_message(
                    support["id"], timeout=60,
                    predicate=lambda m: "mc:1:res" in str(m.get("reply_markup")),
                )  # fmt: skip
                for i in range(CUSTOMERS):  # they write; each is linked and noticed
                    await tg.send_text(FIRST + i, FIRST + i, "Pembayaran saya gagal")
                notices = "SELECT count(*) FROM outbox WHERE dedup_key LIKE 'pubnotice:%' " \
                          "AND status = 'sent'"  # fmt: skip
                for _ in range(600):
                    if await _count(db_url, notices) >= CUSTOMERS:
                        break
                    await asyncio.sleep(0.1)
                await tg.send_text(
                    ADMIN, support["id"], "/update Pakasir sedang dipulihkan",
                    thread_id=card["message_thread_id"],
                )  # fmt: skip
                sent = "SELECT count(*) FROM outbox WHERE owner LIKE 'pubupd:%' AND status = 'sent'"
                for _ in range(1200):
                    if await _count(db_url, sent) >= CUSTOMERS // 3:
                        break
                    await asyncio.sleep(0.02)
                await bot.stop(signal.SIGKILL)
                in_flight = await _count(
                    db_url,
                    "SELECT count(*) FROM outbox WHERE owner LIKE 'pubupd:%' "
                    "AND status = 'sending'",
                )
                before = await _count(db_url, sent)
                assert before < CUSTOMERS, "the fan-out finished before the kill"
                bot.start()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 120
                while loop.time() < deadline:
                    got = await _updates(tg)
                    if all(got.values()):
                        break
                    await asyncio.sleep(1.0)
                await asyncio.sleep(1.0)
                got = await _updates(tg)
                duplicates = sum(n - 1 for n in got.values() if n > 1)
                print(
                    f"\nkilled after {before} of {CUSTOMERS} sent; in flight: {in_flight}; "
                    f"duplicates after restart: {duplicates}"
                )
                assert all(n >= 1 for n in got.values()), {u: n for u, n in got.items() if not n}
                assert duplicates <= in_flight
                counted = await _count(
                    db_url,
                    "SELECT sent + blocked + failed FROM public_updates WHERE kind = 'update'",
                )
                assert counted == CUSTOMERS
            finally:
                await bot.terminate()
        finally:
            await tg.close()
