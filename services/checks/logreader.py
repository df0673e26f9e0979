"""Incremental reading of QuickCart's JSON-lines log files.

Each file is read from where the previous run stopped. A file renamed by rotation keeps its
inode, so its unread tail is still found (in the same folder, or under its new name when
the globs match it); a file truncated in place (copytruncate) is read again from its start.
Only whole lines are consumed; a line still being written waits for the next run.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from glob import glob
from pathlib import Path
from typing import Any

_SKIP = (".gz", ".bz2", ".xz", ".zst", ".zip")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Offset:
    path: str
    device: int
    inode: int
    position: int


@dataclass(frozen=True)
class Read:
    path: Path
    start: int
    end: int
    whole: bool  # the file is finished (rotated away): a last line without newline counts


@dataclass
class Tally:
    """What the lines said, per minute."""

    counts: Counter[tuple[datetime, str]] = field(default_factory=Counter)
    messages: Counter[tuple[datetime, str]] = field(default_factory=Counter)
    bytes_read: int = 0
    durations: list[float] = field(default_factory=list)  # request durations, seconds


@dataclass(frozen=True)
class Classifier:
    error_levels: frozenset[str]
    fraud_events: frozenset[str]
    security_events: frozenset[str]


def matched_files(globs: Iterable[str]) -> list[Path]:
    seen: dict[str, Path] = {}
    for pattern in globs:
        for name in glob(os.path.expanduser(pattern)):
            path = Path(name)
            if path.is_file() and not name.endswith(_SKIP):
                seen.setdefault(str(path.resolve()), path.resolve())
    return [seen[k] for k in sorted(seen)]


def _find_inode(folder: Path, device: int, inode: int) -> Path | None:
    try:
        for entry in os.scandir(folder):
            st = entry.stat(follow_symlinks=False)
            if st.st_ino == inode and st.st_dev == device and entry.is_file():
                return Path(entry.path)
    except OSError:
        return None
    return None


def plan(
    files: list[Path], offsets: list[Offset], *, cap: int
) -> tuple[list[Read], dict[str, tuple[int, int, int]]]:
    """What to read, and each current file's (device, inode, start) before reading."""
    by_path = {o.path: o for o in offsets}
    by_inode = {(o.device, o.inode): o for o in offsets}
    first_ever = not offsets
    reads: list[Read] = []
    identities: dict[str, tuple[int, int, int]] = {}
    current = set()
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        current.add(key)
        known = by_inode.get(key)
        stored = by_path.get(str(path))
        if known is not None and known.position <= st.st_size:
            start = known.position  # same file (perhaps renamed): continue
        elif known is not None:
            start = 0  # truncated in place
        elif stored is not None:
            start = 0  # a new file took the path: finish the old one first
            old = _find_inode(path.parent, stored.device, stored.inode)
            if old is not None and (stored.device, stored.inode) not in current:
                reads.append(Read(old, stored.position, old.stat().st_size, whole=True))
        else:
            start = max(0, st.st_size - cap) if first_ever else 0
        end = min(st.st_size, start + cap)
        reads.append(Read(path, start, end, whole=False))
        identities[str(path)] = (st.st_dev, st.st_ino, start)
    return reads, identities


def read_lines(read: Read) -> tuple[list[bytes], int]:
    """Whole lines in [start, end) and how many bytes they took."""
    with read.path.open("rb") as handle:
        handle.seek(read.start)
        data = handle.read(max(0, read.end - read.start))
    if read.start > 0 and not read.whole and data and not _at_line_start(read):
        cut = data.find(b"\n")
        skipped = cut + 1 if cut >= 0 else len(data)
        data = data[skipped:]
    else:
        skipped = 0
    last = data.rfind(b"\n")
    if read.whole:
        body, used = data, len(data)
    elif last < 0:
        body, used = b"", 0
    else:
        body, used = data[: last + 1], last + 1
    return [line for line in body.split(b"\n") if line.strip()], skipped + used


def _at_line_start(read: Read) -> bool:
    with read.path.open("rb") as handle:
        handle.seek(read.start - 1)
        return handle.read(1) == b"\n"


def _field(record: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _timestamp(record: dict[str, Any], now: datetime) -> datetime:
    raw = _field(record, "timestamp", "time", "ts", "@timestamp", "asctime")
    if isinstance(raw, dict):
        raw = raw.get("timestamp")
    try:
        if isinstance(raw, int | float):
            return datetime.fromtimestamp(float(raw), UTC)
        if isinstance(raw, str):
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return now


def classify(line: bytes, rules: Classifier, now: datetime, tally: Tally) -> None:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        tally.counts[(now.replace(second=0, microsecond=0), "line")] += 1
        return
    if isinstance(record.get("record"), dict):  # loguru's serialize=True
        inner = record["record"]
        record = {
            "level": (inner.get("level") or {}).get("name"),
            "message": inner.get("message"),
            "time": inner.get("time"),
            **(inner.get("extra") or {}),
        }
    minute = _timestamp(record, now).replace(second=0, microsecond=0)
    tally.counts[(minute, "line")] += 1
    level = str(_field(record, "level", "levelname", "severity", "lvl") or "").lower()
    message = str(_field(record, "message", "msg", "error", "event") or "")
    event = str(_field(record, "event", "event_type", "type", "action") or "")
    if level in rules.error_levels:
        tally.counts[(minute, "error")] += 1
        tally.messages[(minute, _DIGITS.sub("#", message)[:200])] += 1
    if event in rules.fraud_events or any(name in message for name in rules.fraud_events):
        tally.counts[(minute, "fraud")] += 1
    category = str(record.get("category") or "").lower()
    if event in rules.security_events or category == "security":
        tally.counts[(minute, "security")] += 1
    seconds = _duration(record)
    if seconds is not None:
        tally.durations.append(seconds)


def _duration(record: dict[str, Any]) -> float | None:
    """A request's response time: `duration_ms` / `response_time_ms` / `latency_ms`, or
    `duration_s`; None when the line carries none."""
    for name, scale in (
        ("duration_ms", 0.001),
        ("response_time_ms", 0.001),
        ("latency_ms", 0.001),
        ("duration_s", 1.0),
    ):
        value = record.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value) * scale
    return None


def p95(values: list[float]) -> float | None:
    """The 95th percentile (nearest rank) of `values`, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def read_all(reads: list[Read], rules: Classifier, now: datetime) -> tuple[Tally, dict[str, int]]:
    """Tally every planned read; return the position reached in each current file."""
    tally = Tally()
    positions: dict[str, int] = {}
    for read in reads:
        try:
            lines, used = read_lines(read)
        except OSError:
            continue
        tally.bytes_read += used
        for line in lines:
            classify(line, rules, now, tally)
        if not read.whole:
            positions[str(read.path)] = read.start + used
    return tally, positions
