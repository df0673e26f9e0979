"""What the jobs need: `JobDeps`, built once by the assembly (bot/features.py), and the
`JobContext` of one run."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from jobs.schedule import JobTiming, ScheduleRules, effective_schedule
from services.checks.config import ChecksRules, Targets
from services.clock import Clock, SystemClock
from services.maintenance import outbound as maintenance_outbound
from services.maintenance.config import MaintenanceRules
from services.rules import Rules
from services.tickets.config import DeskConfig


def default_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobDeps:
    """Everything a job may use. `redis` is the bot's own; QuickCart's come from `targets`."""

    pool: asyncpg.Pool
    rules: Rules = field(default_factory=Rules)
    clock: Clock = field(default_factory=SystemClock)
    timezone: str = "Asia/Jakarta"
    admin_chat_id: int | None = None
    support_chat_id: int | None = None
    default_locale: str = "id"
    targets: Targets = field(default_factory=Targets)
    redis: Any = None
    restore_server_url: str | None = None  # a server where a scratch database may be created
    pg_bin_dir: Path | None = None  # pg_restore lives here (embedded PostgreSQL's bin dir)
    instance: str = field(default_factory=default_instance)
    desk: DeskConfig | None = None  # the assembly's; built from the fields above when absent

    def desk_config(self) -> DeskConfig:
        if self.desk is not None:
            return self.desk
        return DeskConfig.build(
            support_chat_id=self.support_chat_id,
            timezone=self.timezone,
            staff_locale=self.default_locale,
            rules=self.rules,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pg_restore_bin(self) -> str:
        if self.pg_bin_dir is not None:
            return str(self.pg_bin_dir / "pg_restore")
        return self.targets.pg_restore_bin

    def maintenance(self) -> MaintenanceRules:
        return self.rules.section("maintenance", MaintenanceRules)

    def checks(self) -> ChecksRules:
        return self.rules.section("checks", ChecksRules)

    def schedule(self) -> dict[str, JobTiming]:
        return effective_schedule(self.rules.section("schedule", ScheduleRules))


@dataclass
class JobContext:
    """What one run of a job gets: the dependencies and who asked for it."""

    deps: JobDeps
    run_id: int
    job: str
    triggered_by: str
    actor_id: int | None = None
    confirmed: bool = False  # a staff member pressed "Run it now" for a destructive job
    scheduled_for: datetime | None = None
    _progress: maintenance_outbound.ProgressMessage | None = field(default=None, repr=False)

    @property
    def now(self) -> datetime:
        return self.deps.clock.now()

    async def progress(self, text: str) -> None:
        """Long runs report their progress by editing one message in the admin chat."""
        if self._progress is None:
            self._progress = maintenance_outbound.ProgressMessage(
                self.deps.pool, self.deps.admin_chat_id, self.run_id, self.job
            )
        await self._progress.update(text)
