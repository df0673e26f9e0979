"""End-to-end: the real bot, built by `create_app`, polling the Telegram emulator over HTTP.

A test reads like the story it checks:

    await world.send(BUDI, "/start")
    reply = await world.reply_to(BUDI)

The bot's own PostgreSQL and Redis are the session's real servers (a fresh database per test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from bot.keys import POOL
from bot.monitor import MONITOR_CONFIG, MonitorConfig
from bot.runtime import create_app
from bot.settings import Settings
from bot.workers import CATCH_UP_ON_START
from sandbox.telegram.client import EmulatorClient
from sandbox.telegram.config import EmulatorConfig
from sandbox.telegram.server import TelegramEmulator
from services.clock import Clock, FrozenClock, SystemClock
from services.rules import Rules
from tests.cast import ADMIN, ALICE, BUDI


@dataclass
class World:
    emulator: TelegramEmulator
    tg: EmulatorClient
    settings: Settings
    admin_chat_id: int
    support_chat_id: int
    clock: Clock
    rules: Rules
    runner: web.AppRunner | None = None
    catch_up_jobs: bool = False  # last night's missed maintenance runs, caught up at start
    monitor: MonitorConfig | None = None  # the monitoring loop's pace (alert stories: fast)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.runner is not None
        return self.runner.app[POOL]

    @property
    def frozen_clock(self) -> FrozenClock:
        """The clock, for a story that moves it by hand (its e2e_clock is a FrozenClock)."""
        assert isinstance(self.clock, FrozenClock)
        return self.clock

    @property
    def http_base(self) -> str:
        assert self.runner is not None
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def start_bot(self, *, port: int = 0) -> None:
        app = create_app(self.settings, clock=self.clock, rules=self.rules)
        app[CATCH_UP_ON_START] = self.catch_up_jobs
        if self.monitor is not None:
            app[MONITOR_CONFIG] = self.monitor
        self.runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def stop_bot(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def restart_bot(self) -> None:
        await self.stop_bot()
        await self.start_bot()

    async def send(self, user_id: int, text: str, *, chat_id: int | None = None, **kw: Any) -> Any:
        return await self.tg.send_text(
            user_id, chat_id if chat_id is not None else user_id, text, **kw
        )

    async def reply_to(self, chat_id: int, *, after: int | None = None, **kw: Any) -> Any:
        """The bot's next message in a chat (after message id `after`)."""
        return await self.tg.wait_for_message(chat_id, after_message_id=after, **kw)


# Errors that always mean a bug of ours: unescaped HTML, over-long text, over-long button data.
BUG_ERRORS = ("can't parse entities", "message is too long", "BUTTON_DATA_INVALID")


async def _assert_telegram_accepted_everything(tg: EmulatorClient) -> None:
    errors = (await tg.stats()).get("errors", {})
    bugs = {key: count for key, count in errors.items() if any(b in key for b in BUG_ERRORS)}
    assert not bugs, f"the bot sent what Telegram refuses: {bugs}"


@pytest.fixture
def e2e_clock() -> Clock:
    return SystemClock()


# The emulator's limits are off in these stories, so the bot's own pacing (1 msg/s per private
# chat, 20/min per group: Telegram's numbers) is opened up too; tests/integration/delivery and
# bench/ keep the real numbers.
FAST_DELIVERY = {
    "limits": {
        "private_per_second": 1000,
        "private_burst": 1000,
        "group_per_minute": 60000,
        "global_per_second": 1000,
        "global_burst": 1000,
    }
}


# Stories send a customer's commands back to back; the door's flood limit (tested in
# tests/e2e/test_nothing_lost.py and tests/integration/inbox) is opened up for them.
OPEN_INBOX = {"flood": {"updates": 10_000}}


# A ticket's card is edited at most once a minute; stories press one button after another, so
# that pacing is opened up too (tests/e2e/test_support_deadlines.py keeps the real minute).
OPEN_CARDS = {"card_edit_seconds": 0}


def fast_rules(**sections: Any) -> Rules:
    support = {**OPEN_CARDS, **sections.pop("support", {})}
    return Rules({"delivery": FAST_DELIVERY, "inbox": OPEN_INBOX, "support": support, **sections})


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules()


@pytest.fixture
async def world_unstarted(
    db_url: str,
    redis_url: str,
    emulator_config: EmulatorConfig,
    e2e_clock: Clock,
    e2e_rules: Rules,
    tmp_path: Any,
) -> AsyncIterator[World]:
    async with TelegramEmulator(emulator_config) as emulator:
        tg = EmulatorClient(emulator.base_url)
        try:
            await tg.create_user(
                ADMIN, first_name="Rina", username="rina_admin", language_code="id"
            )
            await tg.create_user(BUDI, first_name="Budi", username="budi", language_code="id")
            await tg.create_user(ALICE, first_name="Alice", username="alice", language_code="en")
            admin_chat = await tg.create_chat(
                type="supergroup", title="QuickCart Admin", members=[ADMIN], admins=[ADMIN]
            )
            support_chat = await tg.create_chat(
                type="supergroup",
                title="QuickCart Support",
                is_forum=True,
                members=[ADMIN],
                admins=[ADMIN],
            )
            settings = Settings(
                BOT_TOKEN=emulator_config.token,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=db_url,
                REDIS_URL=redis_url,
                DATA_DIR=tmp_path / "data",
                ADMIN_IDS=[ADMIN],
                ADMIN_CHAT_ID=admin_chat["id"],
                SUPPORT_CHAT_ID=support_chat["id"],
                HTTP_PORT=0,
                DEFAULT_LOCALE="id",
                _env_file=None,  # type: ignore[call-arg]
            )
            world = World(
                emulator=emulator,
                tg=tg,
                settings=settings,
                admin_chat_id=admin_chat["id"],
                support_chat_id=support_chat["id"],
                clock=e2e_clock,
                rules=e2e_rules,
            )
            yield world
            await world.stop_bot()
            await _assert_telegram_accepted_everything(tg)
        finally:
            await tg.close()


@pytest.fixture
async def world(world_unstarted: World) -> World:
    await world_unstarted.start_bot()
    return world_unstarted
