"""Backup verification (daily) and the restore test (weekly) of QuickCart's pg_dump archives.

Both reuse the health checks' archive reader (`services.backups.archives`) and records
(`services.backups.store`), so /backupstatus and the backups probe see what ran here.

The restore test restores the newest archive with `pg_restore` into a scratch database on the
restore server, counts the rows of the largest tables in both the scratch copy and the live
source, records the verdict and how long it took, and always drops the scratch database.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
from pydantic import BaseModel

from services.backups.archives import Archive, ArchiveVerdict, find_archives, verify_archive
from services.backups.store import record_restore_test, record_verification, verdict_word
from services.process import run_process
from services.storage.types import Executor


class BackupPolicy(BaseModel):
    """RULES_FILE `maintenance.backups`."""

    deep_verify: bool = True  # read every data block, not only the table of contents
    verify_timeout_s: float = 600.0
    restore_timeout_s: float = 3600.0
    largest_tables: int = 10
    row_count_tolerance_percent: float = 5.0  # the source keeps changing after the dump
    restore_jobs: int = 2


@dataclass(frozen=True)
class VerifyResult:
    archive: Archive | None
    verdict: ArchiveVerdict | None
    word: str  # 'ok', 'mismatch', 'missing', 'unreadable', 'toc_unreadable', 'no_archive'
    archives: int

    @property
    def ok(self) -> bool:
        return self.word == "ok"


async def verify_newest(
    db: Executor,
    backup_dir: Path,
    pg_restore_bin: str,
    *,
    at: datetime,
    policy: BackupPolicy,
    triggered_by: str,
) -> VerifyResult:
    archives = await asyncio.to_thread(find_archives, backup_dir)
    if not archives:
        return VerifyResult(None, None, "no_archive", 0)
    newest = archives[0]
    verdict = await verify_archive(
        newest, pg_restore_bin, deep=policy.deep_verify, timeout=policy.verify_timeout_s
    )
    await record_verification(db, verdict, at=at, triggered_by=triggered_by)
    return VerifyResult(newest, verdict, verdict_word(verdict), len(archives))


@dataclass
class TableCount:
    table: str
    source: int | None
    restored: int | None

    @property
    def difference_percent(self) -> float | None:
        if self.source is None or self.restored is None:
            return None
        if self.source == 0:
            return 0.0 if self.restored == 0 else 100.0
        return abs(self.source - self.restored) * 100.0 / self.source


@dataclass
class RestoreResult:
    archive: Archive | None
    ok: bool
    verdict: str  # 'ok', 'no_archive', 'restore_failed', 'row_count_mismatch', 'missing_tables'
    seconds: float = 0.0
    restore_seconds: float = 0.0
    scratch_database: str = ""
    dropped: bool = False
    error: str | None = None
    counts: list[TableCount] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "archive": self.archive.name if self.archive else None,
            "verdict": self.verdict,
            "seconds": round(self.seconds, 2),
            "restore_seconds": round(self.restore_seconds, 2),
            "scratch_database": self.scratch_database,
            "dropped": self.dropped,
            "error": self.error,
            "counts": [
                {"table": c.table, "source": c.source, "restored": c.restored} for c in self.counts
            ],
        }


Progress = Callable[[str], Awaitable[None]]


def url_for_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def _libpq_env(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and PGPASSWORD: no secret on a command line."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user, _, host = netloc.rpartition("@")
        netloc = user.split(":", 1)[0] + "@" + host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), env


_LARGEST = """
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition
ORDER BY pg_total_relation_size(c.oid) DESC, 1
LIMIT $1
"""


async def _count(conn: asyncpg.Connection, table: str) -> int | None:
    # `table` comes from format('%I.%I') in _LARGEST: quoted by the server.
    try:
        value: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    except asyncpg.UndefinedTableError:
        return None
    return value


async def _pg_restore(
    pg_restore_bin: str, archive: Archive, target_url: str, jobs: int, timeout: float
) -> str | None:
    url, env = _libpq_env(target_url)
    argv = [pg_restore_bin, "--no-owner", "--no-privileges", "--exit-on-error"]
    if jobs > 1 and not archive.path.name.endswith(".tar"):
        argv.append(f"--jobs={jobs}")
    argv += ["--dbname", url, str(archive.path)]
    done = await run_process(argv, timeout, env=env)
    if done.returncode == 0:
        return None
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    return (lines[0] if lines else f"pg_restore exited with {done.returncode}")[:300]


async def restore_test(
    db: Executor,
    backup_dir: Path,
    *,
    pg_restore_bin: str,
    restore_server_url: str,
    source_url: str | None,
    at: datetime,
    policy: BackupPolicy,
    triggered_by: str,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore the newest archive into a scratch database, compare, drop; record the result."""
    t0 = time.perf_counter()
    archives = await asyncio.to_thread(find_archives, backup_dir)
    if not archives:
        return RestoreResult(None, False, "no_archive")
    archive = archives[0]
    scratch = "qc_restore_test_" + at.strftime("%Y%m%d%H%M%S")
    result = RestoreResult(archive, False, "restore_failed", scratch_database=scratch)
    admin = await asyncpg.connect(restore_server_url, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            if progress is not None:
                await progress("restoring")
            t_restore = time.perf_counter()
            scratch_url = url_for_database(restore_server_url, scratch)
            try:
                result.error = await _pg_restore(
                    pg_restore_bin,
                    archive,
                    scratch_url,
                    policy.restore_jobs,
                    policy.restore_timeout_s,
                )
            except TimeoutError:
                result.error = f"pg_restore took longer than {policy.restore_timeout_s:g} s"
            result.restore_seconds = time.perf_counter() - t_restore
            if result.error is None:
                if progress is not None:
                    await progress("comparing")
                await _compare(result, scratch_url, source_url, policy)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            result.dropped = True
    finally:
        await admin.close()
    result.seconds = time.perf_counter() - t0
    await record_restore_test(
        db,
        archive,
        at=at,
        ok=result.ok,
        verdict=result.verdict,
        duration_s=result.seconds,
        details=result.to_json(),
        triggered_by=triggered_by,
    )
    return result


async def _compare(
    result: RestoreResult, scratch_url: str, source_url: str | None, policy: BackupPolicy
) -> None:
    restored = await asyncpg.connect(scratch_url, timeout=10)
    try:
        if source_url:
            source = await asyncpg.connect(
                source_url,
                timeout=10,
                server_settings={"default_transaction_read_only": "on"},
            )
            try:
                tables = [r["name"] for r in await source.fetch(_LARGEST, policy.largest_tables)]
                for table in tables:
                    result.counts.append(
                        TableCount(
                            table, await _count(source, table), await _count(restored, table)
                        )
                    )
            finally:
                await source.close()
        else:  # no source to compare with: the restore itself is the test
            tables = [r["name"] for r in await restored.fetch(_LARGEST, policy.largest_tables)]
            for table in tables:
                result.counts.append(TableCount(table, None, await _count(restored, table)))
    finally:
        await restored.close()
    if any(c.restored is None for c in result.counts):
        result.verdict = "missing_tables"
    elif any(
        (c.difference_percent or 0.0) > policy.row_count_tolerance_percent for c in result.counts
    ):
        result.verdict = "row_count_mismatch"
    else:
        result.verdict = "ok"
        result.ok = True
