"""The state of QuickCart's backups: each recent archive with its verdict, the last restore
test and the next verification. Used by the backups probe and by /backupstatus.

A verdict is computed once per archive file (path, size, mtime) and stored, so showing the
status again costs a directory listing and a query, not a re-read of every archive.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from services.backups.archives import Archive, find_archives, verify_archive
from services.backups.store import (
    Verification,
    last_restore_test,
    record_verification,
    stored_verification,
    verdict_word,
)
from services.clock import Clock
from services.storage.types import Executor


@dataclass(frozen=True)
class BackupLine:
    archive: Archive
    verification: Verification | None  # None: not verified yet (no time left this round)


@dataclass(frozen=True)
class BackupStatus:
    directory: Path
    exists: bool
    lines: tuple[BackupLine, ...]
    last_restore: Verification | None
    next_verification: datetime | None


async def verification_of(
    db: Executor | None,
    archive: Archive,
    *,
    pg_restore_bin: str,
    clock: Clock,
    timeout: float = 60.0,
) -> Verification:
    """The stored verdict of this exact file, or a fresh verification (stored when possible)."""
    if db is not None:
        stored = await stored_verification(db, archive)
        if stored is not None:
            return stored
    verdict = await verify_archive(archive, pg_restore_bin, timeout=timeout)
    now = clock.now()
    if db is not None:
        await record_verification(db, verdict, at=now, triggered_by="check")
    return Verification(
        at=now,
        kind="checksum",
        archive=str(archive.path),
        ok=verdict.ok,
        verdict=verdict_word(verdict),
        details={"error": verdict.error, "toc_entries": verdict.toc_entries},
        duration_s=verdict.duration_s,
    )


def next_daily(now: datetime, at: str, timezone: str) -> datetime:
    """The next time the clock shows `at` (HH:MM) in `timezone`, as a UTC-aware datetime."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in at.split(":", 1))
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), zone)
    return candidate.astimezone(now.tzinfo)


async def backup_status(
    db: Executor | None,
    directory: Path,
    *,
    pg_restore_bin: str,
    clock: Clock,
    limit: int = 7,
    budget_s: float = 3.0,
    verify_at: str | None = "07:30",
    timezone: str = "Asia/Jakarta",
) -> BackupStatus:
    """The newest `limit` archives; unverified ones are verified newest first within budget."""
    exists = await asyncio.to_thread(directory.is_dir)
    archives = (await asyncio.to_thread(find_archives, directory))[:limit] if exists else []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    lines: list[BackupLine] = []
    for archive in archives:
        remaining = deadline - loop.time()
        verification: Verification | None = None
        if db is not None:
            verification = await stored_verification(db, archive)
        if verification is None and remaining > 0.2:
            try:
                verification = await asyncio.wait_for(
                    verification_of(
                        db, archive, pg_restore_bin=pg_restore_bin, clock=clock, timeout=remaining
                    ),
                    remaining,
                )
            except TimeoutError:
                verification = None
        lines.append(BackupLine(archive, verification))
    restore = await last_restore_test(db) if db is not None else None
    next_at = next_daily(clock.now(), verify_at, timezone) if verify_at else None
    return BackupStatus(directory, exists, tuple(lines), restore, next_at)
