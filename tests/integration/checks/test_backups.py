"""Real pg_dump archives: fresh, stale, truncated, with a wrong checksum, without one."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from services.backups.archives import Checksum, find_archives, verify_archive
from services.backups.status import backup_status, next_daily
from services.backups.store import record_restore_test
from services.checks.model import Status
from services.checks.probes import backups
from services.checks.runner import run_one
from tests.integration.checks.conftest import fill_shop, pg_dump, write_sidecar


@pytest.fixture
async def shop_url(empty_db_url: str) -> str:
    await fill_shop(empty_db_url, 3000)
    return empty_db_url


@pytest.fixture
def pg_restore(pg_server) -> str:
    return str(pg_server.bin_dir / "pg_restore")


def age(path: Path, clock, hours: float) -> None:
    when = (clock.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))


def notes(result) -> list[str]:
    return [d.render() for d in result.details]


async def test_a_fresh_verified_archive_is_ok(
    make_ctx, pg_server, shop_url, tmp_path, clock, pool, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "quickcart-2026-11-02.dump")
    age(archive, clock, 5)
    ctx = make_ctx(db=pool, backup_dir=tmp_path, pg_restore_bin=pg_restore)
    result = await run_one("backups", backups.probe, ctx)
    assert result.status is Status.OK, result.summary
    assert result.summary.startswith("The newest backup quickcart-2026-11-02.dump is 5.0 h old")
    assert result.value("checksum_ok") == 1
    assert "No restore test has run yet." in notes(result)


async def test_a_stale_archive_is_critical(
    make_ctx, pg_server, shop_url, tmp_path, clock, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "old.dump")
    age(archive, clock, 30)
    result = await run_one(
        "backups", backups.probe, make_ctx(backup_dir=tmp_path, pg_restore_bin=pg_restore)
    )
    assert result.status is Status.CRIT
    assert result.summary == "The newest backup old.dump is 30.0 h old; at most 26.0 h is allowed."


async def test_a_wrong_checksum_is_critical(make_ctx, pg_server, shop_url, tmp_path, pg_restore):
    archive = pg_dump(pg_server, shop_url, tmp_path / "night.dump", sidecar=False)
    write_sidecar(archive, "0" * 64)
    result = await run_one(
        "backups", backups.probe, make_ctx(backup_dir=tmp_path, pg_restore_bin=pg_restore)
    )
    assert result.status is Status.CRIT
    assert "does not match its .sha256 file" in result.summary


async def test_a_truncated_archive_fails_its_checksum(
    make_ctx, pg_server, shop_url, tmp_path, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "night.dump")
    with archive.open("r+b") as handle:
        handle.truncate(archive.stat().st_size // 2)
    result = await run_one(
        "backups", backups.probe, make_ctx(backup_dir=tmp_path, pg_restore_bin=pg_restore)
    )
    assert result.status is Status.CRIT
    assert "does not match" in result.summary


async def test_pg_restore_cannot_list_an_archive_cut_to_its_header(
    pg_server, shop_url, tmp_path, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "cut.dump", sidecar=False)
    with archive.open("r+b") as handle:
        handle.truncate(40)
    [found] = find_archives(tmp_path)
    verdict = await verify_archive(found, pg_restore)
    assert verdict.checksum is Checksum.MISSING
    assert not verdict.toc_ok and verdict.error
    assert not verdict.ok


async def test_deep_verification_catches_truncation_without_a_sidecar(
    pg_server, shop_url, tmp_path, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "half.dump", sidecar=False)
    with archive.open("r+b") as handle:
        handle.truncate(archive.stat().st_size - 2000)
    [found] = find_archives(tmp_path)
    shallow = await verify_archive(found, pg_restore)
    deep = await verify_archive(found, pg_restore, deep=True)
    assert shallow.toc_ok  # the table of contents sits at the start
    assert not deep.toc_ok and deep.error


async def test_a_good_archive_lists_its_table_data(pg_server, shop_url, tmp_path, pg_restore):
    pg_dump(pg_server, shop_url, tmp_path / "good.dump")
    [found] = find_archives(tmp_path)
    verdict = await verify_archive(found, pg_restore, deep=True)
    assert verdict.ok and verdict.checksum is Checksum.OK
    assert verdict.table_data_entries == 1
    assert verdict.actual_sha256 == verdict.expected_sha256


async def test_a_missing_sidecar_and_a_sudden_shrink_are_warnings(
    make_ctx, pg_server, shop_url, tmp_path, clock, pg_restore
):
    bigger = pg_dump(pg_server, shop_url, tmp_path / "a-monday.dump")
    age(bigger, clock, 25)
    conn = await asyncpg.connect(shop_url)
    await conn.execute("DELETE FROM orders WHERE id > 300")
    await conn.close()
    smaller = pg_dump(pg_server, shop_url, tmp_path / "b-tuesday.dump", sidecar=False)
    age(smaller, clock, 1)
    result = await run_one(
        "backups", backups.probe, make_ctx(backup_dir=tmp_path, pg_restore_bin=pg_restore)
    )
    assert result.status is Status.WARN
    text = notes(result)
    assert "b-tuesday.dump has no .sha256 file to verify it against." in text
    assert any(
        t.startswith("b-tuesday.dump is ") and "smaller than the backup before it" in t
        for t in text
    )


async def test_a_failed_restore_test_is_critical_and_verdicts_are_reused(
    make_ctx, pg_server, shop_url, tmp_path, clock, pool, pg_restore
):
    archive = pg_dump(pg_server, shop_url, tmp_path / "night.dump")
    ctx = make_ctx(db=pool, backup_dir=tmp_path, pg_restore_bin=pg_restore)
    first = await run_one("backups", backups.probe, ctx)
    assert first.status is Status.OK
    [found] = find_archives(tmp_path)
    await record_restore_test(
        pool,
        found,
        at=clock.now() - timedelta(hours=2),
        ok=False,
        verdict="relation missing",
        duration_s=12.0,
        triggered_by="job:backup_restore_test",
    )
    again = make_ctx(db=pool, backup_dir=tmp_path, pg_restore_bin="/nonexistent/pg_restore")
    second = await run_one("backups", backups.probe, again)
    assert second.status is Status.CRIT
    assert second.summary == "The last restore test, 2.0 h ago, failed: relation missing."
    assert second.value("checksum_ok") == 1  # the stored verdict, no second pg_restore
    assert archive.exists()


async def test_an_empty_or_missing_backup_dir_is_critical(make_ctx, tmp_path):
    empty = await run_one("backups", backups.probe, make_ctx(backup_dir=tmp_path))
    missing = await run_one("backups", backups.probe, make_ctx(backup_dir=tmp_path / "nope"))
    assert empty.status is Status.CRIT and "no pg_dump archive" in empty.summary
    assert missing.status is Status.CRIT and "does not exist" in missing.summary


async def test_backup_status_lists_the_seven_newest_with_verdicts(
    pg_server, shop_url, tmp_path, clock, pool, pg_restore
):
    first = pg_dump(pg_server, shop_url, tmp_path / "day-0.dump")
    for day in range(9):
        copy = tmp_path / f"day-{day}.dump"
        if day:
            shutil.copy(first, copy)
            write_sidecar(copy)
        age(copy, clock, 24 * (9 - day))
    status = await backup_status(
        pool, tmp_path, pg_restore_bin=pg_restore, clock=clock, budget_s=20, timezone="UTC"
    )
    assert [line.archive.name for line in status.lines] == [
        f"day-{d}.dump" for d in range(8, 1, -1)
    ]
    assert all(line.verification and line.verification.verdict == "ok" for line in status.lines)
    assert status.next_verification == next_daily(clock.now(), "07:30", "UTC")
    assert status.last_restore is None
