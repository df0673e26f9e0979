"""The demo QuickCart as one object: database, traffic, backups, logs, disk, Pakasir, clock.

`DemoWorld.start()` brings it up (seeding what is missing under its folder), a background loop
moves it along the demo clock, and `act(name, value)` is what the world panel's buttons do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from loguru import logger

from sandbox.pakasir import Mode, PakasirConfig, PakasirEmulator
from sandbox.world import backups, demo_db, demo_live, docs
from sandbox.world.clock import DemoClock
from sandbox.world.disk import DemoDisk
from sandbox.world.heartbeat import BackupHeartbeat
from sandbox.world.logs import LogWriter

TICK_S = 2.0
INITIAL_NIGHTS = 3
PROBE_ORDER = "PROBE-0001"
PROBE_AMOUNT = 10_000  # the payment probe's default amount


@dataclass(frozen=True)
class WorldConfig:
    folder: Path  # DATA_DIR/quickcart
    demo_url: str  # the demo database
    admin_url: str | None  # a maintenance database to create the demo one in (None: exists)
    pg_dump: str
    timezone: str = "Asia/Jakarta"
    pakasir_project: str = "quickcart"
    pakasir_api_key: str = "sandbox-api-key"

    @property
    def backup_dir(self) -> Path:
        return self.folder / "backups"

    @property
    def log_file(self) -> Path:
        return self.folder / "logs" / "app.log"

    @property
    def log_glob(self) -> str:
        return str(self.folder / "logs" / "*.log*")

    @property
    def docs_dir(self) -> Path:
        return self.folder / "docs"

    @property
    def state_file(self) -> Path:
        return self.folder / "world.json"


class ActionError(Exception):
    pass


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class DemoWorld:
    def __init__(self, config: WorldConfig) -> None:
        self.config = config
        saved = self._read_state()
        self.clock = DemoClock(offset_s=max(0.0, float(saved.get("clock_offset_s", 0.0))))
        self.traffic = demo_live.Traffic(config.demo_url)
        self.traffic.success_rate = float(saved.get("success_rate", 0.985))
        # The last nightly run done (or deliberately undone by the panel): each night dumps once,
        # so "delete last night's backup" stays deleted until the next night or "backup now".
        self.nightly_taken: datetime | None = _parse_time(saved.get("nightly_taken"))
        # The nightly backup's heartbeat: its secret key lives with the world, so the bot's
        # check (sandbox rules) and the job's ping URL agree across restarts.
        self.heartbeat = BackupHeartbeat(
            ping_key=str(saved.get("backup_ping_key") or uuid.uuid4()),
            stopped=bool(saved.get("backup_heartbeat_stopped", False)),
        )
        self.trouble = demo_live.Trouble(config.demo_url)
        self.logs = LogWriter(config.log_file)
        self.disk = DemoDisk(config.folder / "disk")
        self.pakasir = PakasirEmulator(
            PakasirConfig(project=config.pakasir_project, api_key=config.pakasir_api_key)
        )
        self.notify: Callable[[str, dict[str, Any]], None] = lambda kind, payload: None
        # The bot's next on-call handoff after a moment (set by the sandbox command, which may
        # read the bot's schedule; the world imports nothing of the bot).
        self.next_handoff: Callable[[datetime], Awaitable[datetime | None]] | None = None
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None

    # life ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.config.folder.mkdir(parents=True, exist_ok=True)
        if self.config.admin_url is not None:
            await demo_db.ensure_database(self.config.admin_url)
        if await demo_db.seed(self.config.demo_url, self.clock.now()):
            logger.info("demo QuickCart database seeded with {} days", demo_db.HISTORY_DAYS)
        if not backups.archives(self.config.backup_dir):
            night = backups.last_nightly(self.clock.now(), self.config.timezone)
            for back in range(INITIAL_NIGHTS - 1, -1, -1):
                await self._dump(night - timedelta(days=back))
            self.nightly_taken = night
            self._write_state()
        await asyncio.to_thread(docs.prepare, self.config.docs_dir, self.clock.now())
        await self.pakasir.start()
        self.pakasir.add_transaction(PROBE_ORDER, PROBE_AMOUNT)
        await asyncio.to_thread(self.disk.prepare)
        self._conn = await asyncpg.connect(self.config.demo_url)
        self._task = asyncio.create_task(self._loop(), name="demo-world")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.trouble.release()
        if self._conn is not None:
            await self._conn.close()
        await self.pakasir.stop()
        await asyncio.to_thread(self.disk.release)
        self._write_state()

    @property
    def pakasir_url(self) -> str:
        return self.pakasir.base_url

    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.config.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self) -> None:
        state = {
            "clock_offset_s": self.clock.offset_s,
            "success_rate": self.traffic.success_rate,
            "nightly_taken": self.nightly_taken.isoformat() if self.nightly_taken else None,
            "backup_ping_key": self.heartbeat.ping_key,
            "backup_heartbeat_stopped": self.heartbeat.stopped,
        }
        self.config.state_file.write_text(json.dumps(state), encoding="utf-8")

    async def _loop(self) -> None:
        while True:
            try:
                await self.step()
                self.last_error = None
            except (OSError, asyncpg.PostgresError, backups.BackupError) as exc:
                self.last_error = str(exc)
                logger.warning("demo world step failed: {}", exc)
            await asyncio.sleep(TICK_S)  # the world's own pace, not a wait for time to pass

    async def step(self) -> None:
        """One move of the world: traffic and log lines since the last, the nightly backup."""
        now = self.clock.now()
        assert self._conn is not None
        self.traffic.gateway_down = self.pakasir.state.mode in (Mode.FAIL, Mode.HANG)
        await self.traffic.tick(self._conn, now)
        await asyncio.to_thread(self.logs.tick, now)
        night = backups.due(self.config.backup_dir, now, self.config.timezone)
        if night is not None and night != self.nightly_taken and now - night < timedelta(hours=20):
            await self._dump(night)
            self.nightly_taken = night
            self._write_state()

    async def report_last_backup(self) -> None:
        """Once the bot listens: the backup job reports last night's run (its archive is there),
        so the heartbeat starts `up` instead of waiting for tonight as `new`."""
        newest = backups.archives(self.config.backup_dir)
        night = backups.last_nightly(self.clock.now(), self.config.timezone)
        if newest and newest[0].stat().st_mtime >= night.timestamp() - 60:
            await self.heartbeat.ping("success", f"pg_dump: {newest[0].name} (last night)")

    async def _dump(self, at: Any) -> None:
        """The backup job: pg_dump, then prune, checking in with its heartbeat around it."""
        await self.heartbeat.ping("start")
        try:
            path = await backups.dump(
                self.config.pg_dump, self.config.demo_url, self.config.backup_dir, at
            )
            await asyncio.to_thread(backups.prune, self.config.backup_dir)
        except (OSError, backups.BackupError) as exc:
            await self.heartbeat.ping("fail", f"pg_dump failed: {exc}")
            raise
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        await self.heartbeat.ping("success", f"pg_dump: {path.name}, {size} bytes")

    # the panel -------------------------------------------------------------------------

    async def act(self, action: str, value: Any = None) -> None:
        now = self.clock.now()
        if action in ("gateway_ok", "gateway_fail", "gateway_slow", "gateway_hang"):
            mode = Mode(action.removeprefix("gateway_").replace("ok", "answer"))
            self.pakasir.set_mode(mode, delay=6.0 if mode is Mode.SLOW else None)
        elif action == "success_rate":
            rate = float(value)
            if not 0.0 <= rate <= 1.0:
                raise ActionError("success rate is a share between 0 and 1")
            self.traffic.success_rate = rate
        elif action == "disk_fill":
            if not self.disk.available:
                raise ActionError(self.disk.reason)
            await asyncio.to_thread(self.disk.fill)
        elif action == "disk_clear":
            await asyncio.to_thread(self.disk.clear)
        elif action == "slow_query":
            self.trouble.start_slow_query()
        elif action == "lock":
            self.trouble.start_lock()
        elif action == "db_release":
            await self.trouble.release()
        elif action == "backup_delete_last":
            if await asyncio.to_thread(backups.delete_newest, self.config.backup_dir) is None:
                raise ActionError("there is no backup to delete")
            # missing stays missing: tonight's run is over, the next one is tomorrow night
            self.nightly_taken = backups.last_nightly(now, self.config.timezone)
        elif action == "backup_now":
            await self._dump(now)
        elif action == "backup_heartbeat_stop":
            self.heartbeat.stopped = True
        elif action == "backup_heartbeat_start":
            self.heartbeat.stopped = False
        elif action == "logs_errors":
            await asyncio.to_thread(self.logs.flood_errors, now)
        elif action == "logs_fraud":
            await asyncio.to_thread(self.logs.flood_fraud, now)
        elif action == "web_slow":
            await asyncio.to_thread(self.logs.slow_requests, now)
        elif action == "logs_calm":
            self.logs.calm()
        elif action == "clock_next_handoff":
            if self.next_handoff is None:
                raise ActionError("no on-call schedule in this run")
            found = await self.next_handoff(now)
            if found is None:
                raise ActionError("no on-call handoff in the next 8 weeks")
            # a second past it, so the bot's scan sees the handoff as passed
            self.clock.jump(max(found - now, timedelta(0)) + timedelta(seconds=1))
        elif action in self.DATA_ACTIONS:
            await self._data_action(action, now)
        elif action == "sessions_ok":
            self.traffic.session_failure = 0.004
        elif action == "payments_fast":
            self.traffic.slow_payments = False
        elif action == "speed":
            try:
                self.clock.set_speed(float(value))
            except (TypeError, ValueError) as exc:
                raise ActionError(str(exc)) from None
        else:
            raise ActionError(f"unknown action {action!r}")
        self._write_state()
        self.notify("world_changed", {"action": action})

    # Buttons that change QuickCart's data: CRITICAL_METRICS the probes alone cannot break.
    DATA_ACTIONS = (
        "sessions_fail",
        "payments_slow",
        "fraud_slips",
        "fraud_queue",
        "fraud_false_alarms",
    )

    async def _data_action(self, action: str, now: datetime) -> None:
        """On a connection of its own: the world's loop uses its connection meanwhile."""
        conn = await asyncpg.connect(self.config.demo_url)
        try:
            if action == "sessions_fail":
                self.traffic.session_failure = 0.3
                await demo_live.sessions_break(conn, now)
            elif action == "payments_slow":
                self.traffic.slow_payments = True
                await demo_live.payments_slow_burst(conn, now)
            elif action == "fraud_slips":
                await demo_live.fraud_slips(conn, now)
            elif action == "fraud_queue":
                await demo_live.fraud_flag(conn, now, count=120, outcome=None)
            else:
                await demo_live.fraud_flag(conn, now, count=100, outcome="false_positive")
        finally:
            await conn.close()

    async def view(self) -> dict[str, Any]:
        now = self.clock.now()
        try:
            database: dict[str, Any] = await demo_db.summary(self.config.demo_url, now)
        except (OSError, asyncpg.PostgresError) as exc:
            database = {"error": str(exc)}
        state = self.pakasir.state
        handoff: datetime | None = None
        if self.next_handoff is not None:
            try:
                handoff = await self.next_handoff(now)
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("next on-call handoff unknown: {}", exc)
        return {
            "clock": {
                "now": now.isoformat(),
                "speed": self.clock.speed,
                "next_handoff": handoff.isoformat() if handoff else None,
            },
            "gateway": {"mode": state.mode.value, "delay": state.delay_s, "url": self.pakasir_url},
            "success_rate": self.traffic.success_rate,
            "session_failure": self.traffic.session_failure,
            "slow_payments": self.traffic.slow_payments,
            "database": {**database, "trouble": self.trouble.active()},
            "disk": self.disk.view(),
            "backups": backups.listing(self.config.backup_dir)[:5],
            "backup_heartbeat": self.heartbeat.view(),
            "logs": self.logs.view(now),
            "last_error": self.last_error,
        }
