"""The monitoring flow (DESIGN flow 2): probes on an interval, their samples stored, then the
alert rules evaluated and due group messages queued. One loop, time-boxed at every step, so a
hanging target delays nothing but its own probe."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiohttp import web
from loguru import logger

from bot.keys import CLOCK, FEATURES, POOL, REDIS
from bot.supervision import owned
from services import state_metrics
from services.alerts import pipeline
from services.alerts.escalation_link import incident_opener
from services.checks import metrics as check_metrics
from services.checks.probe import ProbeContext
from services.checks.runner import run_checks
from services.heartbeats import pings
from services.storage.db import create_pool

GAUGES_INTERVAL = 15.0  # seconds between refreshes of the alert / ticket / heartbeat gauges


@dataclass
class MonitorConfig:
    probe_interval: float = 60.0
    tick_interval: float = 15.0


class MonitorLoop:
    def __init__(self, app: web.Application, config: MonitorConfig | None = None) -> None:
        self.app = app
        self.config = config or MonitorConfig()
        self._stop = asyncio.Event()
        self._monitor_db: asyncpg.Pool | None = None

    def stop(self) -> None:
        self._stop.set()

    def probe_context(self) -> ProbeContext:
        app = self.app
        features = app[FEATURES]
        return ProbeContext(
            targets=features.checks.targets,
            rules=features.checks.rules,
            clock=app[CLOCK],
            db=app[POOL],
            redis=app[REDIS],
        )

    async def _monitor_pool(self) -> asyncpg.Pool | None:
        url = self.app[FEATURES].checks.targets.monitor_database_url
        if url and self._monitor_db is None:
            try:
                self._monitor_db = await create_pool(
                    url, min_size=0, max_size=2, timeout=5.0, command_timeout=10.0
                )
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                logger.warning("QuickCart's database is unreachable for alert SQL: {}", exc)
        return self._monitor_db

    async def run(self) -> None:
        features = self.app[FEATURES]
        alerts = features.alerts_rules
        automatic = incident_opener(
            self.app[CLOCK], features.escalation_context, None, features.chats.admin
        )
        admin_chat = features.audience
        clock = self.app[CLOCK]
        next_probe = next_gauges = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + self.config.probe_interval
                    report = await run_checks(self.probe_context(), trigger="schedule")
                    # every scheduled run's values on /metrics, not only those /health asked for
                    check_metrics.export(report)
                # heartbeats that missed their time join the alert groups flushed just below
                await pings.scan(self.app[POOL], clock.now(), alerts, self.app[REDIS])
                await pipeline.tick(
                    self.app[POOL],
                    alerts,
                    self.app[CLOCK],
                    admin_chat,
                    monitor_db=await self._monitor_pool(),
                    open_incident=automatic,
                )
                if time.monotonic() >= next_gauges:  # /metrics' stored-state gauges
                    next_gauges = time.monotonic() + GAUGES_INTERVAL
                    await state_metrics.refresh(self.app[POOL], clock.now())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.config.tick_interval)
        finally:
            if self._monitor_db is not None:
                await self._monitor_db.close()
                self._monitor_db = None


MONITOR_CONFIG = web.AppKey("monitor_config", MonitorConfig)


async def monitor_ctx(app: web.Application) -> AsyncIterator[None]:
    loop = MonitorLoop(app, app.get(MONITOR_CONFIG))
    async for _ in owned("monitor", loop, loop.stop):
        yield
