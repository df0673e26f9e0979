"""What the jobs need, as plain values and objects (bot/workers.py and bot/jobs_cmd.py build it
from Settings)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from jobs.schedule import JobTiming, ScheduleRules, effective_schedule
from services.checks.config import ChecksRules, Targets
from services.clock import Clock, SystemClock
from services.maintenance.config import MaintenanceRules
from services.rules import Rules


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
