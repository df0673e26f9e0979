"""Retention: the bot's own rotated log files, and old check results, samples, log counts and
maintenance runs, pruned by age. Loguru rotates and compresses the live file (bot/logs.py);
this removes rotated files past the retention, in case the bot was not running when loguru
would have."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from services.checks import store as check_store
from services.inbox import store as inbox_store
from services.maintenance import runs
from services.results import as_json
from services.storage.types import Executor


class RetentionPolicy(BaseModel):
    """RULES_FILE `maintenance.retention`."""

    log_dir: Path | None = None  # where the bot's own rotated logs live
    log_glob: str = "*.log*"
    log_days: int = 30
    check_days: int = 90  # check runs, their results and samples
    log_count_days: int = 90  # counts of QuickCart's log lines per minute
    maintenance_run_days: int = 400  # a year of history for the reports, and some
    inbox_days: int = 14  # Telegram updates once handled (or refused and handed to staff)


@dataclass
class RetentionResult:
    deleted_files: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    check_runs: int = 0
    log_counts: int = 0
    maintenance_runs: int = 0
    inbox_updates: int = 0

    def to_json(self) -> dict[str, Any]:
        return as_json(self)


def _old_files(directory: Path, pattern: str, before: datetime) -> list[Path]:
    if not directory.is_dir():
        return []
    cutoff = before.timestamp()
    found = []
    for path in directory.glob(pattern):
        # the live file is the newest; only rotated (older) files go
        if path.is_file() and path.stat().st_mtime < cutoff:
            found.append(path)
    return found


def _delete(paths: list[Path]) -> int:
    freed = 0
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
            freed += size
        except OSError:
            continue
    return freed


async def prune(db: Executor, now: datetime, policy: RetentionPolicy) -> RetentionResult:
    result = RetentionResult()
    if policy.log_dir is not None:
        old = await asyncio.to_thread(
            _old_files, policy.log_dir, policy.log_glob, now - timedelta(days=policy.log_days)
        )
        result.freed_bytes = await asyncio.to_thread(_delete, old)
        result.deleted_files = [p.name for p in old]
    result.check_runs = await check_store.prune(db, now - timedelta(days=policy.check_days))
    cutoff = now - timedelta(days=policy.log_count_days)
    deleted: str = await db.execute("DELETE FROM log_counts WHERE minute < $1", cutoff)
    deleted2: str = await db.execute("DELETE FROM log_error_messages WHERE minute < $1", cutoff)
    result.log_counts = int(deleted.split()[-1]) + int(deleted2.split()[-1])
    result.maintenance_runs = await runs.prune(
        db, now - timedelta(days=policy.maintenance_run_days)
    )
    result.inbox_updates = await inbox_store.prune(db, now - timedelta(days=policy.inbox_days))
    return result
