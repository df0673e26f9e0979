"""Which documents of DOCS_DIR have not changed for N days, and who owns them.

A git checkout's file times are when it was checked out, so there the last commit that touched
a file says when it changed (one `git log` pass, time-boxed); files git does not know (new,
untracked) and plain directories use the file's modification time."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.docs.config import DocsRules
from services.process import run_process


@dataclass(frozen=True)
class Document:
    path: str  # relative to DOCS_DIR, with /
    changed_at: datetime
    source: str  # git | mtime
    owner: str | None

    def age_days(self, now: datetime) -> int:
        return (now - self.changed_at) // timedelta(days=1)


@dataclass(frozen=True)
class Review:
    root: Path
    git: bool
    documents: list[Document]
    stale: list[Document]
    stale_days: int


def documents_in(root: Path, patterns: list[str], exclude: str | None = None) -> list[str]:
    found: set[str] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not rel.startswith(".git/") and rel != exclude:
                found.add(rel)
    return sorted(found)


async def _git(root: Path, timeout: float, *args: str) -> str | None:
    try:
        done = await run_process(["git", "-C", str(root), *args], timeout)
    except (OSError, TimeoutError):
        return None
    return done.stdout if done.returncode == 0 else None


async def git_times(root: Path, timeout: float) -> dict[str, datetime] | None:
    """Each tracked file's last commit time (paths relative to `root`); None: not a checkout."""
    inside = await _git(root, timeout, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != "true":
        return None
    log = await _git(
        root,
        timeout,
        "log",
        "--format=@%ct",
        "--name-only",
        "--no-renames",
        "--relative",
        "--",
        ".",
    )
    if log is None:
        return None
    times: dict[str, datetime] = {}
    current: datetime | None = None
    for line in log.splitlines():
        if line.startswith("@") and line[1:].isdigit():
            current = datetime.fromtimestamp(int(line[1:]), UTC)
        elif line.strip() and current is not None:
            times.setdefault(line.strip(), current)  # newest first: the first seen wins
    return times


def codeowners(root: Path) -> list[tuple[str, str]]:
    for where in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"):
        path = root / where
        if path.is_file():
            rules: list[tuple[str, str]] = []
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) >= 2:
                    rules.append((words[0], " ".join(words[1:])))
            return rules
    return []


def owner_of(path: str, rules: DocsRules, code_owners: list[tuple[str, str]]) -> str | None:
    """RULES_FILE `docs.owners` (first match wins), then CODEOWNERS (last match wins)."""
    name = path.rsplit("/", 1)[-1]
    for pattern, owner in rules.owners.items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(name, pattern):
            return owner
    found: str | None = None
    for pattern, owner in code_owners:
        bare = pattern.lstrip("/")
        if bare.endswith("/"):
            bare += "*"
        if fnmatch.fnmatch(path, bare) or fnmatch.fnmatch(name, bare) or bare == "*":
            found = owner
    return found


async def review(root: Path, rules: DocsRules, now: datetime) -> Review:
    names = documents_in(root, rules.patterns, exclude=rules.metrics_file)
    times = await git_times(root, rules.git_timeout_s)
    owners = codeowners(root)
    documents: list[Document] = []
    for name in names:
        if times is not None and name in times:
            changed, source = times[name], "git"
        else:
            changed = datetime.fromtimestamp((root / name).stat().st_mtime, UTC)
            source = "mtime"
        documents.append(Document(name, changed, source, owner_of(name, rules, owners)))
    limit = now - timedelta(days=rules.stale_days)
    stale = sorted((d for d in documents if d.changed_at < limit), key=lambda d: d.changed_at)
    return Review(root, times is not None, documents, stale, rules.stale_days)
