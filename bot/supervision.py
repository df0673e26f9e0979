"""Long-lived loops, each owned by one aiohttp cleanup context (start, yield, stop).

A loop that crashes is logged and restarted after a pause: a monitoring bot must not go quiet
because one loop failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from loguru import logger

RESTART_PAUSE = 5.0


class Worker(Protocol):
    async def run(self) -> None: ...


async def supervise(name: str, worker: Worker, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await worker.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("worker {} crashed; restarting in {}s", name, RESTART_PAUSE)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), RESTART_PAUSE)


async def owned(
    name: str, worker: Worker, stop: Callable[[], Awaitable[None] | None]
) -> AsyncIterator[None]:
    stopping = asyncio.Event()
    task = asyncio.create_task(supervise(name, worker, stopping), name=name)
    yield
    stopping.set()
    result = stop()
    if result is not None:
        await result
    try:
        await asyncio.wait_for(task, 10)
    except TimeoutError:
        logger.warning("worker {} did not stop in 10 s; cancelled", name)
