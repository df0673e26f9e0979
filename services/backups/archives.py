"""QuickCart's pg_dump archives on disk: find them, and decide whether one can be trusted.

`find_archives(dir)` lists archives newest first; `verify_archive(archive, pg_restore_bin)`
checks the `.sha256` sidecar and reads the table of contents with `pg_restore --list`
(`deep=True` also reads every data block, which catches truncation without a sidecar).
The maintenance jobs reuse both for backup verification and restore tests.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.process import run_process

ARCHIVE_SUFFIXES = (".dump", ".backup", ".pgdump", ".pgdmp", ".tar")
_SKIP_SUFFIXES = (".sha256", ".tmp", ".part", ".partial", ".log")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_CHUNK = 1024 * 1024


class ArchiveFormat(enum.StrEnum):
    CUSTOM = "custom"  # pg_dump -Fc: starts with PGDMP
    TAR = "tar"  # pg_dump -Ft
    DIRECTORY = "directory"  # pg_dump -Fd: a folder with toc.dat
    UNRECOGNISED = "unrecognised"  # named like an archive, but the header is wrong or missing


class Checksum(enum.StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"  # no sidecar
    UNREADABLE = "unreadable"  # sidecar or archive could not be read, or is malformed
    NOT_APPLICABLE = "not_applicable"  # directory archives carry no single checksum


@dataclass(frozen=True)
class Archive:
    path: Path
    size: int
    mtime: datetime
    format: ArchiveFormat
    sidecar: Path | None

    @property
    def name(self) -> str:
        return self.path.name

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.mtime).total_seconds())


@dataclass(frozen=True)
class ArchiveVerdict:
    archive: Archive
    checksum: Checksum
    expected_sha256: str | None
    actual_sha256: str | None
    toc_ok: bool
    toc_entries: int
    table_data_entries: int
    error: str | None  # the first line pg_restore (or the file system) complained with
    deep_checked: bool
    duration_s: float

    @property
    def ok(self) -> bool:
        checksum_fine = self.checksum in (Checksum.OK, Checksum.NOT_APPLICABLE)
        return checksum_fine and self.toc_ok


def _format_of(path: Path) -> ArchiveFormat | None:
    if path.is_dir():
        return ArchiveFormat.DIRECTORY if (path / "toc.dat").is_file() else None
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        head = b""
    if head.startswith(b"PGDMP"):
        return ArchiveFormat.CUSTOM
    if len(head) >= 262 and head[257:262] == b"ustar":
        return ArchiveFormat.TAR
    if path.suffix.lower() in ARCHIVE_SUFFIXES:
        return ArchiveFormat.UNRECOGNISED
    return None


def _sidecar_of(path: Path) -> Path | None:
    for candidate in (path.with_name(path.name + ".sha256"), path.with_suffix(".sha256")):
        if candidate != path and candidate.is_file():
            return candidate
    return None


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def find_archives(directory: Path) -> list[Archive]:
    """Every pg_dump archive directly in `directory`, newest first; [] when it does not exist."""
    if not directory.is_dir():
        return []
    found: list[Archive] = []
    for entry in directory.iterdir():
        name = entry.name
        if name.startswith(".") or name.lower().endswith(_SKIP_SUFFIXES):
            continue
        try:
            archive_format = _format_of(entry)
            if archive_format is None:
                continue
            stat = entry.stat()
            found.append(
                Archive(
                    path=entry,
                    size=_size_of(entry),
                    mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
                    format=archive_format,
                    sidecar=None if entry.is_dir() else _sidecar_of(entry),
                )
            )
        except OSError:  # vanished while we looked (a rotation in progress)
            continue
    found.sort(key=lambda a: (a.mtime, a.name), reverse=True)
    return found


def read_sidecar(sidecar: Path) -> str | None:
    """The hex digest in a `sha256sum`-style sidecar (`<hex>  <name>` or just `<hex>`)."""
    try:
        text = sidecar.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    first = text.split()[0] if text.split() else ""
    return first.lower() if _HEX64.match(first) else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def _checksum(archive: Archive) -> tuple[Checksum, str | None, str | None]:
    if archive.format is ArchiveFormat.DIRECTORY:
        return Checksum.NOT_APPLICABLE, None, None
    if archive.sidecar is None:
        return Checksum.MISSING, None, None
    expected = read_sidecar(archive.sidecar)
    if expected is None:
        return Checksum.UNREADABLE, None, None
    try:
        actual = await asyncio.to_thread(sha256_of, archive.path)
    except OSError:
        return Checksum.UNREADABLE, expected, None
    return (Checksum.OK if actual == expected else Checksum.MISMATCH), expected, actual


def _first_error(stderr: str, returncode: int) -> str:
    for line in stderr.splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("pg_restore: ")[:300]
    return f"pg_restore exited with status {returncode}"


async def read_toc(
    archive: Archive, pg_restore_bin: str, timeout: float = 60.0
) -> tuple[bool, int, int, str | None]:
    """(readable, entries, table-data entries, error) from `pg_restore --list`."""
    try:
        done = await run_process([pg_restore_bin, "--list", str(archive.path)], timeout)
    except FileNotFoundError:
        return False, 0, 0, f"{pg_restore_bin} not found"
    except TimeoutError:
        return False, 0, 0, f"pg_restore --list took longer than {timeout:g} s"
    if done.returncode != 0:
        return False, 0, 0, _first_error(done.stderr, done.returncode)
    entries = [ln for ln in done.stdout.splitlines() if ln.strip() and not ln.startswith(";")]
    table_data = sum(1 for ln in entries if " TABLE DATA " in ln)
    return True, len(entries), table_data, None


async def read_all_data(archive: Archive, pg_restore_bin: str, timeout: float) -> str | None:
    """Read every block as a restore would (into /dev/null); the error, or None."""
    try:
        done = await run_process([pg_restore_bin, "--file", os.devnull, str(archive.path)], timeout)
    except FileNotFoundError:
        return f"{pg_restore_bin} not found"
    except TimeoutError:
        return f"pg_restore took longer than {timeout:g} s"
    return None if done.returncode == 0 else _first_error(done.stderr, done.returncode)


async def verify_archive(
    archive: Archive, pg_restore_bin: str, *, deep: bool = False, timeout: float = 60.0
) -> ArchiveVerdict:
    """Checksum against the sidecar, and the table of contents (and, if deep, all data)."""
    t0 = time.perf_counter()
    checksum, expected, actual = await _checksum(archive)
    toc_ok, entries, table_data, error = await read_toc(archive, pg_restore_bin, timeout)
    if toc_ok and deep:
        error = await read_all_data(archive, pg_restore_bin, timeout)
        toc_ok = error is None
    return ArchiveVerdict(
        archive=archive,
        checksum=checksum,
        expected_sha256=expected,
        actual_sha256=actual,
        toc_ok=toc_ok,
        toc_entries=entries,
        table_data_entries=table_data,
        error=error,
        deep_checked=deep,
        duration_s=time.perf_counter() - t0,
    )


def shrink_percent(newest: Archive, previous: Archive | None) -> float | None:
    """How much smaller the newest archive is than the one before, in percent (None if not)."""
    if previous is None or previous.size <= 0 or newest.size >= previous.size:
        return None
    return (previous.size - newest.size) * 100.0 / previous.size
