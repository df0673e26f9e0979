"""The daily jobs: each a thin function that calls services and returns the run's outcome."""

from __future__ import annotations

from redis.asyncio import Redis

from jobs.context import JobContext
from services.backups import verification as backups
from services.checks.model import Status
from services.checks.probe import ProbeContext
from services.checks.render import MARKS, title
from services.checks.runner import run_checks
from services.i18n import gettext as _
from services.i18n import ngettext
from services.maintenance import cache, retention, runs
from services.maintenance.runs import JobOutcome, RunStatus
from services.tickets import actions


def _mb(value: int) -> str:
    return f"{value / (1024 * 1024):.1f} MB"


async def log_rotation(ctx: JobContext) -> JobOutcome:
    policy = ctx.deps.maintenance().retention
    result = await retention.prune(ctx.deps.pool, ctx.now, policy)
    summary = _(
        "Removed {files} old log files ({freed}), {checks} old check runs, {counts} log counts "
        "and {runs} old maintenance runs."
    ).format(
        files=len(result.deleted_files),
        freed=_mb(result.freed_bytes),
        checks=result.check_runs,
        counts=result.log_counts,
        runs=result.maintenance_runs,
    )
    return JobOutcome(RunStatus.OK, summary, result.to_json())


async def ticket_auto_close(ctx: JobContext) -> JobOutcome:
    """Resolved tickets close by themselves after `support.auto_close_days` (7 by default)."""
    cfg = ctx.deps.desk_config()
    closed = await actions.auto_close(ctx.deps.pool, cfg, ctx.deps.clock)
    summary = ngettext(
        "Closed {count} ticket resolved more than {days} days ago.",
        "Closed {count} tickets resolved more than {days} days ago.",
        len(closed),
    ).format(count=len(closed), days=cfg.support.auto_close_days)
    return JobOutcome(RunStatus.OK, summary, {"closed": closed})


async def cache_cleanup(ctx: JobContext) -> JobOutcome:
    url = ctx.deps.targets.monitor_redis_url
    if not url:
        return JobOutcome(
            RunStatus.SKIPPED, _("MONITOR_REDIS_URL is not set, so there is no cache to clean.")
        )
    policy = ctx.deps.maintenance().cache
    client = Redis.from_url(url, socket_timeout=30)
    try:
        result = await cache.cleanup_sessions(client, policy)
    finally:
        await client.aclose()
    summary = _(
        "Scanned {scanned} keys matching {pattern}: {deleted} stale sessions deleted, "
        "{ttl} given an expiry. Memory {before} → {after}."
    ).format(
        scanned=result.scanned,
        pattern=result.pattern,
        deleted=result.deleted,
        ttl=result.ttl_assigned,
        before=_mb(result.memory_before),
        after=_mb(result.memory_after),
    )
    status = RunStatus.WARN if result.truncated else RunStatus.OK
    return JobOutcome(status, summary, result.to_json())


async def backup_verification(ctx: JobContext) -> JobOutcome:
    directory = ctx.deps.targets.backup_dir
    if directory is None:
        return JobOutcome(RunStatus.FAILED, _("BACKUP_DIR is not set: no backup can be verified."))
    result = await backups.verify_newest(
        ctx.deps.pool,
        directory,
        ctx.deps.pg_restore_bin,
        at=ctx.now,
        policy=ctx.deps.maintenance().backups,
        triggered_by=ctx.triggered_by,
    )
    if result.archive is None or result.verdict is None:
        return JobOutcome(
            RunStatus.FAILED,
            _("There is no pg_dump archive in {path}.").format(path=str(directory)),
            {"verdict": result.word},
        )
    details = {
        "archive": result.archive.name,
        "size": result.archive.size,
        "verdict": result.word,
        "checksum": result.verdict.checksum.value,
        "toc_entries": result.verdict.toc_entries,
        "table_data_entries": result.verdict.table_data_entries,
        "error": result.verdict.error,
        "seconds": round(result.verdict.duration_s, 2),
    }
    if result.ok:
        summary = _("{archive} verified: checksum and {entries} table-of-contents entries.").format(
            archive=result.archive.name, entries=result.verdict.toc_entries
        )
        return JobOutcome(RunStatus.OK, summary, details)
    summary = _("{archive} failed verification ({verdict}): {error}").format(
        archive=result.archive.name, verdict=result.word, error=result.verdict.error or "-"
    )
    status = RunStatus.WARN if result.word == "missing" else RunStatus.FAILED
    return JobOutcome(status, summary, details)


async def _checks(ctx: JobContext, names: list[str] | None) -> JobOutcome:
    probe_ctx = ProbeContext(
        targets=ctx.deps.targets,
        rules=ctx.deps.checks(),
        clock=ctx.deps.clock,
        db=ctx.deps.pool,
        redis=ctx.deps.redis,
    )
    report = await run_checks(probe_ctx, names, trigger="schedule")
    # in the admin chat's language, as /health says it: the mark, the check's title, its summary
    lines = [f"{MARKS[r.status]} {title(r.name)}: {r.summary}" for r in report.results]
    status = {
        Status.OK: RunStatus.OK,
        Status.UNKNOWN: RunStatus.OK,
        Status.WARN: RunStatus.WARN,
        Status.CRIT: RunStatus.FAILED,
    }[report.status]
    details = {"run_id": report.run_id, "results": {r.name: r.status.value for r in report.results}}
    return JobOutcome(status, "\n".join(lines), details)


async def health_check_report(ctx: JobContext) -> JobOutcome:
    return await _checks(ctx, None)


async def database_health(ctx: JobContext) -> JobOutcome:
    return await _checks(ctx, ["database"])


async def payment_check(ctx: JobContext) -> JobOutcome:
    return await _checks(ctx, ["payment"])


async def log_analysis(ctx: JobContext) -> JobOutcome:
    return await _checks(ctx, ["logs", "fraud"])


async def _report_of(ctx: JobContext, job: str) -> JobOutcome:
    """The morning report of a night job: what its last run found (it does not run it again)."""
    last = await runs.last_finished(ctx.deps.pool, job)
    if last is None or (ctx.now - last.started_at).total_seconds() > 26 * 3600:
        return JobOutcome(
            RunStatus.FAILED,
            _("{job} did not run last night.").format(job=job),
            {"last_run": last.id if last else None},
        )
    hours = (ctx.now - last.started_at).total_seconds() / 3600
    summary = ngettext(
        "{hours} hour ago: {summary}", "{hours} hours ago: {summary}", max(1, round(hours))
    ).format(hours=max(1, round(hours)), summary=last.summary)
    status = last.status if last.status != RunStatus.RUNNING else RunStatus.WARN
    return JobOutcome(status, summary, {"run_id": last.id, "status": last.status.value})


async def backup_verification_report(ctx: JobContext) -> JobOutcome:
    return await _report_of(ctx, "backup_verification")


async def cache_cleanup_report(ctx: JobContext) -> JobOutcome:
    return await _report_of(ctx, "cache_cleanup")
