"""Backup verification and the weekly restore test with a real pg_dump archive."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.embedded import EmbeddedPostgres
from jobs.context import JobDeps
from jobs.runner import run_now
from services.backups.store import last_restore_test
from services.checks.config import Targets
from services.maintenance.runs import MaintenanceRun, RunStatus

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def quickcart(empty_db_url: str) -> AsyncIterator[str]:
    conn = await asyncpg.connect(empty_db_url)
    try:
        await conn.execute(
            """
            CREATE TABLE customers (id bigint PRIMARY KEY, name text);
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric);
            INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 500) g;
            INSERT INTO orders SELECT g, g % 500 + 1, g * 1000 FROM generate_series(1, 3000) g;
            """
        )
    finally:
        await conn.close()
    yield empty_db_url


@dataclass(frozen=True)
class Backups:
    """The backup directory of a test, the shop's database (`quickcart`) and its server."""

    pg_server: EmbeddedPostgres
    source: str
    directory: Path
    make_deps: Callable[..., JobDeps]

    def dump(self, name: str = "quickcart.dump") -> Path:
        """A pg_dump archive of the source, with its .sha256 beside it, as the backup job
        leaves them."""
        self.directory.mkdir(exist_ok=True)
        archive = self.directory / name
        pg_dump = str(self.pg_server.bin_dir / "pg_dump")
        subprocess.run(
            [pg_dump, "--format=custom", "--file", str(archive), self.source], check=True
        )
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        (self.directory / (name + ".sha256")).write_text(f"{digest}  {name}\n")
        return archive

    async def run(self, job: str, *, compare_with_source: bool = False) -> MaintenanceRun:
        """The job run now (Saturday 05:00 WIB) on the directory; the restore test compares
        its counts with the source when `compare_with_source`."""
        source = self.source if compare_with_source else None
        deps = self.make_deps(
            datetime(2026, 11, 7, 5, 0, tzinfo=JAKARTA),
            targets=Targets(backup_dir=self.directory, monitor_database_url=source),
        )
        return await run_now(job, deps)


@pytest.fixture
def backups(
    make_deps: Callable[..., JobDeps], pg_server: EmbeddedPostgres, quickcart: str, tmp_path: Path
) -> Backups:
    return Backups(pg_server, quickcart, tmp_path / "b", make_deps)


async def test_the_newest_archive_is_verified_by_checksum_and_contents(backups: Backups) -> None:
    backups.dump("quickcart-2026-11-06.dump")

    run = await backups.run("backup_verification")

    assert run.status is RunStatus.OK
    assert run.details["verdict"] == "ok"
    assert run.details["table_data_entries"] == 2
    assert "quickcart-2026-11-06.dump verified" in run.summary


async def test_a_corrupted_archive_fails_verification_and_is_pushed_with_retry(
    backups: Backups, pool: asyncpg.Pool
) -> None:
    archive = backups.dump()
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    run = await backups.run("backup_verification")

    assert run.status is RunStatus.FAILED
    assert run.details["verdict"] == "mismatch"
    pushed = await pool.fetchval(
        "SELECT payload FROM outbox WHERE owner = $1", f"maintenance_run:{run.id}"
    )
    assert "mj:retry:backup_verification" in str(pushed["reply_markup"])


async def test_the_restore_test_restores_compares_counts_and_drops_the_scratch_db(
    backups: Backups, pool: asyncpg.Pool
) -> None:
    backups.dump()

    run = await backups.run("backup_restore_test", compare_with_source=True)

    assert run.status is RunStatus.OK, run.summary
    counts = {c["table"]: (c["source"], c["restored"]) for c in run.details["counts"]}
    assert counts == {"public.orders": (3000, 3000), "public.customers": (500, 500)}
    assert run.details["dropped"] is True
    admin = await asyncpg.connect(backups.pg_server.url)
    try:
        left = await admin.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'qc_restore_test_%'"
        )
    finally:
        await admin.close()
    assert left == 0
    recorded = await last_restore_test(pool)
    assert recorded is not None and recorded.ok and recorded.verdict == "ok"
    # long runs report progress by editing one message
    kinds = [
        r["kind"]
        for r in await pool.fetch(
            "SELECT kind FROM outbox WHERE coalesce_key = $1 ORDER BY id",
            f"maintenance_run:{run.id}:progress",
        )
    ]
    assert kinds[0] == "text" and set(kinds[1:]) == {"edit"} and len(kinds) >= 3


async def test_a_restore_that_lost_rows_is_a_failed_restore_test(backups: Backups) -> None:
    backups.dump()
    conn = await asyncpg.connect(backups.source)
    try:  # the source doubled since the dump: the archive no longer matches it
        await conn.execute("INSERT INTO orders SELECT g, 1, 1 FROM generate_series(3001, 6000) g")
    finally:
        await conn.close()

    run = await backups.run("backup_restore_test", compare_with_source=True)

    assert run.status is RunStatus.FAILED
    assert run.details["verdict"] == "row_count_mismatch"
    assert run.details["dropped"] is True
