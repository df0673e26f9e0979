"""QuickCart's nightly pg_dump archives in BACKUP_DIR: age, size, checksum, readability,
and the last restore test."""

from __future__ import annotations

import asyncio

from services.backups.archives import find_archives, shrink_percent
from services.backups.status import verification_of
from services.backups.store import last_restore_test
from services.checks.model import Outcome, Status, Unit
from services.checks.probe import NotConfigured, ProbeContext
from services.checks.probes._common import Findings
from services.checks.units import fmt_bytes, fmt_duration, fmt_percent
from services.i18n import N_


async def probe(ctx: ProbeContext) -> Outcome:
    directory = ctx.targets.backup_dir
    if directory is None:
        raise NotConfigured("BACKUP_DIR")
    rules = ctx.rules.backups
    found = Findings()
    if not directory.is_dir():
        found.value("archives", 0, Unit.COUNT)
        found.add(Status.CRIT, N_("The backup folder {path} does not exist."), path=str(directory))
        return found.outcome(N_("The backup folder {path} does not exist."), path=str(directory))
    archives = await asyncio.to_thread(find_archives, directory)
    found.value("archives", len(archives), Unit.COUNT)
    if not archives:
        found.add(Status.CRIT, N_("There is no pg_dump archive in {path}."), path=str(directory))
        return found.outcome(N_("There is no pg_dump archive in {path}."), path=str(directory))
    newest = archives[0]
    now = ctx.clock.now()
    age = found.value("newest_age_seconds", newest.age_s(now), Unit.SECONDS)
    found.value("newest_size_bytes", newest.size, Unit.BYTES)
    max_age = rules.max_age_hours * 3600
    if age > max_age:
        found.add(
            Status.CRIT,
            N_("The newest backup {name} is {age} old; at most {allowed} is allowed."),
            name=newest.name,
            age=fmt_duration(age),
            allowed=fmt_duration(max_age),
        )
    previous = archives[1] if len(archives) > 1 else None
    if previous is not None:
        found.value("previous_size_bytes", previous.size, Unit.BYTES)
    shrink = shrink_percent(newest, previous)
    if shrink is not None and previous is not None and shrink > rules.shrink_warn_percent:
        found.add(
            Status.WARN,
            N_("{name} is {percent} smaller than the backup before it ({before} → {after})."),
            name=newest.name,
            percent=fmt_percent(shrink),
            before=fmt_bytes(previous.size),
            after=fmt_bytes(newest.size),
        )
    verification = await verification_of(
        ctx.db,
        newest,
        pg_restore_bin=ctx.targets.pg_restore_bin,
        clock=ctx.clock,
        timeout=rules.pg_restore_timeout_s,
    )
    _judge_verification(found, newest.name, verification.verdict, verification.details)
    await _judge_restore_test(ctx, found)
    return found.outcome(
        N_("The newest backup {name} is {age} old and {size}; checksum and contents verified."),
        name=newest.name,
        age=fmt_duration(age),
        size=fmt_bytes(newest.size),
    )


def _judge_verification(
    found: Findings, name: str, verdict: str, details: dict[str, object]
) -> None:
    found.value("checksum_ok", 1 if verdict in ("ok", "missing") else 0, Unit.COUNT)
    if verdict == "mismatch":
        found.add(
            Status.CRIT,
            N_("The checksum of {name} does not match its .sha256 file: the archive is damaged."),
            name=name,
        )
    elif verdict == "unreadable":
        found.add(Status.CRIT, N_("The .sha256 file of {name} cannot be read."), name=name)
    elif verdict == "toc_unreadable":
        found.add(
            Status.CRIT,
            N_("pg_restore cannot read the table of contents of {name}: {error}"),
            name=name,
            error=str(details.get("error") or "-"),
        )
    elif verdict == "missing":
        found.add(Status.WARN, N_("{name} has no .sha256 file to verify it against."), name=name)


async def _judge_restore_test(ctx: ProbeContext, found: Findings) -> None:
    if ctx.db is None:
        return
    test = await last_restore_test(ctx.db)
    if test is None:
        found.note(N_("No restore test has run yet."))
        return
    age = found.value(
        "restore_test_age_seconds", (ctx.clock.now() - test.at).total_seconds(), Unit.SECONDS
    )
    found.value("restore_test_ok", 1 if test.ok else 0, Unit.COUNT)
    if not test.ok:
        found.add(
            Status.CRIT,
            N_("The last restore test, {age} ago, failed: {verdict}."),
            age=fmt_duration(age),
            verdict=test.verdict,
        )
    elif age > ctx.rules.backups.restore_test_max_age_days * 86_400:
        found.add(
            Status.WARN, N_("The last restore test passed, but {age} ago."), age=fmt_duration(age)
        )
    else:
        found.note(N_("The last restore test passed {age} ago."), age=fmt_duration(age))
