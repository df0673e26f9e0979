"""Backup verification and the weekly restore test with a real pg_dump archive."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator, Callable
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
from services.maintenance.runs import RunStatus

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


def _dump(pg_server: EmbeddedPostgres, url: str, backup_dir: Path, name: str) -> Path:
    backup_dir.mkdir(exist_ok=True)
    archive = backup_dir / name
    subprocess.run(
        [str(pg_server.bin_dir / "pg_dump"), "--format=custom", "--file", str(archive), url],
        check=True,
    )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (backup_dir / (name + ".sha256")).write_text(f"{digest}  {name}\n")
    return archive


def _deps(make_deps: Callable[..., JobDeps], backup_dir: Path, source: str | None) -> JobDeps:
    return make_deps(
        datetime(2026, 11, 7, 5, 0, tzinfo=JAKARTA),
        targets=Targets(backup_dir=backup_dir, monitor_database_url=source),
    )


async def test_the_newest_archive_is_verified_by_checksum_and_contents(
    make_deps: Callable[..., JobDeps], pg_server: EmbeddedPostgres, quickcart: str, tmp_path: Path
) -> None:
    _dump(pg_server, quickcart, tmp_path / "b", "quickcart-2026-11-06.dump")

    run = await run_now("backup_verification", _deps(make_deps, tmp_path / "b", None))

    assert run.status is RunStatus.OK
    assert run.details["verdict"] == "ok"
    assert run.details["table_data_entries"] == 2
    assert "quickcart-2026-11-06.dump verified" in run.summary


async def test_a_corrupted_archive_fails_verification_and_is_pushed_with_retry(
    make_deps: Callable[..., JobDeps],
    pg_server: EmbeddedPostgres,
    quickcart: str,
    tmp_path: Path,
    pool: asyncpg.Pool,
) -> None:
    archive = _dump(pg_server, quickcart, tmp_path / "b", "quickcart.dump")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    run = await run_now("backup_verification", _deps(make_deps, tmp_path / "b", None))

    assert run.status is RunStatus.FAILED
    assert run.details["verdict"] == "mismatch"
    pushed = await pool.fetchval(
        "SELECT payload FROM outbox WHERE owner = $1", f"maintenance_run:{run.id}"
    )
    assert "mj:retry:backup_verification" in str(pushed["reply_markup"])


async def test_the_restore_test_restores_compares_counts_and_drops_the_scratch_db(
    make_deps: Callable[..., JobDeps],
    pg_server: EmbeddedPostgres,
    quickcart: str,
    tmp_path: Path,
    pool: asyncpg.Pool,
) -> None:
    _dump(pg_server, quickcart, tmp_path / "b", "quickcart.dump")

    run = await run_now("backup_restore_test", _deps(make_deps, tmp_path / "b", quickcart))

    assert run.status is RunStatus.OK, run.summary
    counts = {c["table"]: (c["source"], c["restored"]) for c in run.details["counts"]}
    assert counts == {"public.orders": (3000, 3000), "public.customers": (500, 500)}
    assert run.details["dropped"] is True
    admin = await asyncpg.connect(pg_server.url)
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


async def test_a_restore_that_lost_rows_is_a_failed_restore_test(
    make_deps: Callable[..., JobDeps], pg_server: EmbeddedPostgres, quickcart: str, tmp_path: Path
) -> None:
    _dump(pg_server, quickcart, tmp_path / "b", "quickcart.dump")
    conn = await asyncpg.connect(quickcart)
    try:  # the source doubled since the dump: the archive no longer matches it
        await conn.execute("INSERT INTO orders SELECT g, 1, 1 FROM generate_series(3001, 6000) g")
    finally:
        await conn.close()

    run = await run_now("backup_restore_test", _deps(make_deps, tmp_path / "b", quickcart))

    assert run.status is RunStatus.FAILED
    assert run.details["verdict"] == "row_count_mismatch"
    assert run.details["dropped"] is True
