"""What was verified about which backup archive, and the restore tests (table
backup_verifications). The maintenance jobs call `record_restore_test` after each restore
test; the backups probe and /backupstatus read the records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.backups.archives import Archive, ArchiveVerdict, Checksum
from services.storage.records import jsonb, record
from services.storage.types import Executor


@dataclass(frozen=True)
class Verification:
    at: datetime
    kind: str  # 'checksum' | 'restore_test'
    archive: str
    ok: bool
    verdict: str
    details: dict[str, Any]
    duration_s: float


def verdict_word(verdict: ArchiveVerdict) -> str:
    """One word for a verdict: 'ok', 'mismatch', 'missing', 'unreadable' or 'toc_unreadable'."""
    if verdict.checksum in (Checksum.MISMATCH, Checksum.UNREADABLE):
        return verdict.checksum.value
    if not verdict.toc_ok:
        return "toc_unreadable"
    if verdict.checksum is Checksum.MISSING:
        return "missing"
    return "ok"


def _row(row: Any) -> Verification:
    return record(
        Verification,
        row,
        details=dict(jsonb(row["details"])),
        duration_s=row["duration_ms"] / 1000,
    )


_COLUMNS = "at, kind, archive, ok, verdict, details::text AS details, duration_ms"


async def record_verification(
    db: Executor, verdict: ArchiveVerdict, *, at: datetime, triggered_by: str | None = None
) -> None:
    details = {
        "checksum": verdict.checksum.value,
        "toc_ok": verdict.toc_ok,
        "toc_entries": verdict.toc_entries,
        "table_data_entries": verdict.table_data_entries,
        "error": verdict.error,
        "deep": verdict.deep_checked,
    }
    await _insert(
        db,
        "checksum",
        verdict.archive,
        at=at,
        ok=verdict.ok and verdict.checksum is not Checksum.MISSING,
        verdict=verdict_word(verdict),
        details=details,
        duration_s=verdict.duration_s,
        triggered_by=triggered_by,
    )


async def stored_verification(db: Executor, archive: Archive) -> Verification | None:
    """The newest checksum verification of exactly this file (same path, size and mtime)."""
    row = await db.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM backup_verifications
        WHERE archive = $1 AND archive_size = $2 AND archive_mtime = $3 AND kind = 'checksum'
        ORDER BY at DESC LIMIT 1
        """,
        str(archive.path),
        archive.size,
        archive.mtime,
    )
    return None if row is None else _row(row)


async def record_restore_test(
    db: Executor,
    archive: Archive,
    *,
    at: datetime,
    ok: bool,
    verdict: str,
    duration_s: float,
    details: dict[str, Any] | None = None,
    triggered_by: str | None = None,
) -> None:
    """Called by the maintenance jobs after restoring `archive` into a scratch database."""
    await _insert(
        db,
        "restore_test",
        archive,
        at=at,
        ok=ok,
        verdict=verdict,
        details=details or {},
        duration_s=duration_s,
        triggered_by=triggered_by,
    )


async def _insert(
    db: Executor,
    kind: str,  # 'checksum' | 'restore_test'
    archive: Archive,
    *,
    at: datetime,
    ok: bool,
    verdict: str,
    details: dict[str, Any],
    duration_s: float,
    triggered_by: str | None,
) -> None:
    await db.execute(
        """
        INSERT INTO backup_verifications
            (at, kind, archive, archive_size, archive_mtime, ok, verdict, details, duration_ms,
             triggered_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10)
        """,
        at,
        kind,
        str(archive.path),
        archive.size,
        archive.mtime,
        ok,
        verdict,
        json.dumps(details, default=str),
        round(duration_s * 1000),
        triggered_by,
    )


async def last_restore_test(db: Executor) -> Verification | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM backup_verifications WHERE kind = 'restore_test' "
        "ORDER BY at DESC LIMIT 1"
    )
    return None if row is None else _row(row)
