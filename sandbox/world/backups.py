"""Real `pg_dump` archives of the demo database, with `sha256sum`-style sidecars.

Archives are named `quickcart-YYYYMMDD-HHMMSS.dump` after the demo time they were taken at,
and their modification time is set to that demo time, so a sped-up demo clock ages them too.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NIGHTLY_AT = time(2, 0)  # the seed's daily backup, local time
KEEP = 7


class BackupError(Exception):
    pass


def archives(directory: Path) -> list[Path]:
    """Newest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.glob("quickcart-*.dump") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


async def dump(pg_dump: str, url: str, directory: Path, taken_at: datetime) -> Path:
    """One custom-format archive + sidecar, written to a temporary name first."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    name = f"quickcart-{taken_at.strftime('%Y%m%d-%H%M%S')}.dump"
    target = directory / name
    partial = directory / (name + ".part")
    process = await asyncio.create_subprocess_exec(
        pg_dump,
        "--format=custom",
        "--no-owner",
        f"--file={partial}",
        f"--dbname={url}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(err.decode(errors="replace").strip() or f"pg_dump {process.returncode}")
    digest = await asyncio.to_thread(_sha256, partial)
    partial.rename(target)
    sidecar = directory / (name + ".sha256")
    sidecar.write_text(f"{digest}  {name}\n", encoding="utf-8")
    stamp = taken_at.timestamp()
    for path in (target, sidecar):
        os.utime(path, (stamp, stamp))
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def last_nightly(now: datetime, zone: str) -> datetime:
    """The most recent 02:00 local time at or before `now` (as an aware datetime)."""
    local = now.astimezone(ZoneInfo(zone))
    candidate = datetime.combine(local.date(), NIGHTLY_AT, tzinfo=local.tzinfo)
    if candidate > local:
        candidate -= timedelta(days=1)
    return candidate


def due(directory: Path, now: datetime, zone: str) -> datetime | None:
    """The nightly run that has no archive yet (None when the newest covers it)."""
    night = last_nightly(now, zone)
    newest = archives(directory)
    if newest and newest[0].stat().st_mtime >= night.timestamp() - 60:
        return None
    return night


def delete_newest(directory: Path) -> str | None:
    """ "Last night's backup went missing": remove the newest archive and its sidecar."""
    found = archives(directory)
    if not found:
        return None
    newest = found[0]
    newest.unlink()
    (newest.parent / (newest.name + ".sha256")).unlink(missing_ok=True)
    return newest.name


def prune(directory: Path, keep: int = KEEP) -> None:
    for old in archives(directory)[keep:]:
        old.unlink(missing_ok=True)
        (old.parent / (old.name + ".sha256")).unlink(missing_ok=True)


def listing(directory: Path) -> list[dict[str, object]]:
    return [
        {"name": p.name, "size": p.stat().st_size, "mtime": p.stat().st_mtime}
        for p in archives(directory)
    ]
