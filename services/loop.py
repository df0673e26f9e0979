"""A background worker's loop: one round, then a pause until the next round is due or someone
wakes it (`wake()`: something changed sooner than planned). A round that fails on PostgreSQL or
the network is logged and tried again after the usual pause, so a database restart never ends
the worker. Owned by the app's lifecycle: start `run()` as a task, call `stop()` on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Generic, TypeVar

import asyncpg
from loguru import logger

from services.clock import Clock

C = TypeVar("C")


class Loop:
    what = "loop"  # the round, as the log names it ("escalation scan failed: ...")

    def __init__(self) -> None:
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def pause(self) -> float:
        """Seconds between rounds, unless a round says otherwise (and after a failed one)."""
        raise NotImplementedError

    async def round(self) -> float | None:
        """One round; the seconds until the next one (None: `pause()`)."""
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = await self.round()
            except (asyncpg.PostgresError, OSError) as exc:
                logger.warning("{} failed: {}", self.what, exc)
                delay = None
            self._wake.clear()
            if self._stop.is_set():  # stopped during the round: its wake was just cleared
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self.pause() if delay is None else delay
                )


class FeatureLoop(Loop, Generic[C]):
    """The loop of one feature's worker: its rounds read the database through `pool`, tell
    the time by `clock` and follow the feature's context `ctx` (what bot/features.py built)."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, ctx: C) -> None:
        super().__init__()
        self.pool = pool
        self.clock = clock
        self.ctx = ctx
