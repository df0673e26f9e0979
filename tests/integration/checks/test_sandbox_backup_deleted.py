"""The world panel's "Delete last night's backup" stays deleted, so the missing backup can be
shown: the demo world dumps each night once, not whenever the newest archive is gone."""

from __future__ import annotations

from pathlib import Path

from bot.embedded import EmbeddedPostgres
from sandbox.world import backups
from sandbox.world.world import DemoWorld, WorldConfig


def _config(pg_server: EmbeddedPostgres, url: str, folder: Path) -> WorldConfig:
    return WorldConfig(
        folder=folder, demo_url=url, admin_url=None, pg_dump=str(pg_server.bin_dir / "pg_dump")
    )


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_a_deleted_nightly_backup_is_not_dumped_again(
    pg_server: EmbeddedPostgres, empty_db_url: str, tmp_path: Path
) -> None:
    config = _config(pg_server, empty_db_url, tmp_path / "quickcart")
    world = DemoWorld(config)
    await world.start()
    try:
        newest = backups.archives(config.backup_dir)[0].name
        await world.act("backup_delete_last")
        for _ in range(3):  # the world moves on (its loop does this every 2 s)
            await world.step()
        left = _names(config.backup_dir)
        assert newest not in left
        assert not [name for name in left if name.endswith(".part")]
        assert len(backups.archives(config.backup_dir)) == 2
    finally:
        await world.stop()

    # A restart of the sandbox does not bring it back either.
    again = DemoWorld(config)
    await again.start()
    try:
        await again.step()
        assert newest not in _names(config.backup_dir)
        await again.act("backup_now")  # the repair still works
        assert len(backups.archives(config.backup_dir)) == 3
    finally:
        await again.stop()
