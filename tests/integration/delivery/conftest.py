"""The delivery worker against the Telegram emulator, on real PostgreSQL and Redis.

Limits are scaled up (and the emulator's with them) where a test is not about the limits,
so the suite stays fast while the rules it checks stay the same.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiogram import Bot

from bot.sender import AiogramSender
from sandbox.telegram import EmulatorClient, TelegramEmulator
from services.clock import Clock, SystemClock
from services.delivery import DeliveryConfig, DeliveryHooks, DeliveryWorker, Limits
from tests.bots import make_bot
from tests.cast import ALICE, BUDI, CITRA

FAST_LIMITS = Limits(
    private_per_second=200,
    private_burst=50,
    group_per_minute=12000,
    global_per_second=1000,
    global_burst=100,
)
FAST = DeliveryConfig(
    admin_chat_id=None,
    limits=FAST_LIMITS,
    poll_interval=0.5,
    flush_interval=0.1,
    backoff_base=0.05,
    backoff_cap=0.2,
    digest_edit_interval=0.2,
    stop_grace=1.0,
    request_timeout=1.0,
)


@pytest.fixture
async def tg(emulator: TelegramEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.base_url, poll_interval=0.02) as client:
        for user in (ALICE, BUDI, CITRA):
            await client.create_user(user, f"user{user}", started=True)
        yield client


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[Bot]:
    # The production default parse mode (HTML): the worker must not depend on it.
    bot = make_bot(emulator.base_url, emulator.token)
    yield bot
    await bot.session.close()


StartWorker = Callable[..., Awaitable[DeliveryWorker]]


@pytest.fixture
async def start_worker(
    pool: asyncpg.Pool, redis_client: aioredis.Redis, bot: Bot
) -> AsyncIterator[StartWorker]:
    running: list[tuple[DeliveryWorker, asyncio.Task[None]]] = []

    async def start(
        config: DeliveryConfig = FAST,
        hooks: DeliveryHooks | None = None,
        clock: Clock | None = None,
        **changes: Any,
    ) -> DeliveryWorker:
        if changes:
            config = config.model_copy(update=changes)
        sender = AiogramSender(bot, timeout=config.request_timeout)
        worker = DeliveryWorker(pool, redis_client, sender, clock or SystemClock(), config, hooks)
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, task in running:
        await asyncio.wait_for(worker.stop(), 10)
        await task


async def rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch("SELECT * FROM outbox ORDER BY id")]


async def wait_for_rows(
    pool: asyncpg.Pool, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await rows(pool)
        if predicate(current):
            return current
        if asyncio.get_running_loop().time() > deadline:
            summary = [(r["id"], r["status"], r["attempts"], r["last_error"]) for r in current]
            summary = [s for s in summary if s[1] not in ("sent", "coalesced")] or summary
            raise AssertionError(f"outbox never got there: {summary[:20]}")
        await asyncio.sleep(0.02)


ROOT = Path(__file__).resolve().parents[3]
# A worker process; with a count, it also queues and sends at once that many answers.
Spawn = Callable[..., Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def spawn(db_url: str, redis_url: str, emulator: TelegramEmulator) -> AsyncIterator[Spawn]:
    started: list[asyncio.subprocess.Process] = []

    async def start(answers: int | None = None) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.delivery.worker_process",
            db_url,
            redis_url,
            emulator.base_url,
            emulator.token,
            *([] if answers is None else [str(answers)]),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)  # a loaded machine is slow
        assert line.startswith(b"ready"), line
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
