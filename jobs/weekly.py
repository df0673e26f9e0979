"""The weekly jobs: thin functions over services/maintenance and services/reports."""

from __future__ import annotations

from datetime import timedelta

from jobs.context import JobContext
from services import chats
from services.backups import verification as backups
from services.i18n import gettext as _
from services.maintenance import (
    database,
    dependencies,
    fraud,
    orphans,
    performance,
    runs,
)
from services.maintenance import outbound as maintenance_outbound
from services.maintenance import security as security_review_service
from services.maintenance.runs import JobOutcome, RunStatus

WEEK = timedelta(days=7)


async def dependency_review(ctx: JobContext) -> JobOutcome:
    policy = ctx.deps.maintenance().dependencies
    previous = await runs.last_finished(ctx.deps.pool, "dependency_review", before_id=ctx.run_id)
    known = {
        f"{f['package']}=={f['version']}:{f['advisory']}"
        for f in (previous.details.get("findings", []) if previous else [])
    }
    result = await dependencies.audit(policy, known)
    details = result.to_json()
    if result.verdict == "not_configured":
        return JobOutcome(
            RunStatus.SKIPPED,
            _("No requirements file is configured (maintenance.dependencies.requirements_file)."),
            details,
        )
    if result.verdict == "no_network":
        return JobOutcome(
            RunStatus.WARN,
            _("pip-audit could not reach the vulnerability database (no network): {error}").format(
                error=result.error or "-"
            ),
            details,
        )
    if result.verdict == "error":
        return JobOutcome(
            RunStatus.FAILED,
            _("pip-audit failed: {error}").format(error=result.error or "-"),
            details,
        )
    if not result.findings:
        return JobOutcome(
            RunStatus.OK,
            _("{packages} packages audited: no known vulnerabilities.").format(
                packages=result.packages
            ),
            details,
        )
    listed = ", ".join(f"{f.package} {f.version} ({f.advisory})" for f in result.new[:10])
    summary = _(
        "{count} known vulnerabilities in {packages} packages, {new} new since last week: {listed}"
    ).format(
        count=len(result.findings),
        packages=result.packages,
        new=len(result.new),
        listed=listed or "-",
    )
    return JobOutcome(RunStatus.WARN, summary, details)


async def database_maintenance(ctx: JobContext) -> JobOutcome:
    """VACUUM and REINDEX where needed, then orphaned data (orphan_cleanup)."""
    outcome = await _vacuum_and_reindex(ctx)
    return await orphan_cleanup(ctx, outcome)


async def _vacuum_and_reindex(ctx: JobContext) -> JobOutcome:
    url = ctx.deps.targets.monitor_database_url
    if not url:
        return JobOutcome(RunStatus.SKIPPED, _("MONITOR_DATABASE_URL is not set."))
    policy = ctx.deps.maintenance().database
    allowed = "confirmed" if ctx.confirmed else None
    allowed = allowed or await database.window_allows(ctx.deps.pool, ctx.now, ctx.deps.tz, policy)
    dry_run = allowed is None

    async def progress(index: int, total: int, action: database.Action) -> None:
        await ctx.progress(
            _("Step {step} of {total}: {kind} {target}").format(
                step=index + 1, total=total, kind=action.kind, target=action.target
            )
        )

    result = await database.run_maintenance(url, policy, dry_run=dry_run, progress=progress)
    details = {**result.to_json(), "allowed_by": allowed}
    if not result.planned:
        summary = _(
            "Nothing needed maintenance: no table has {dead} or more dead rows ({share} of its "
            "rows) for VACUUM, and no index is bloated enough for REINDEX."
        ).format(dead=policy.min_dead_tuples, share=f"{policy.dead_ratio:.0%}")
        return JobOutcome(RunStatus.OK, summary, details)
    planned = ", ".join(f"{a.kind} {a.target}" for a in result.planned[:10]) or "-"
    if dry_run:
        summary = _(
            "Outside a maintenance window: nothing was changed. It would run {count} steps: "
            "{planned}"
        ).format(count=len(result.planned), planned=planned)
        return JobOutcome(RunStatus.SKIPPED, summary, details)
    summary = _("{done} of {count} steps done in {seconds} s: {planned}").format(
        done=len(result.done) - len(result.failed),
        count=len(result.planned),
        seconds=f"{result.seconds:.1f}",
        planned=planned,
    )
    return JobOutcome(RunStatus.WARN if result.failed else RunStatus.OK, summary, details)


async def orphan_cleanup(ctx: JobContext, before: JobOutcome) -> JobOutcome:
    """Count orphans (RULES_FILE `orphans`) every run; delete them in batches only inside a
    maintenance window or after a confirmation (otherwise the admin chat is asked)."""
    url = ctx.deps.targets.monitor_database_url
    rules = ctx.deps.rules.section("orphans", orphans.OrphanRules)
    if not url or not rules.queries:
        return before
    deleting = ctx.confirmed or await database.in_maintenance_window(ctx.deps.pool, ctx.now)
    report = await orphans.clean(url, rules, delete=deleting)
    counts = ", ".join(f"{r.name} {'?' if r.found is None else r.found}" for r in report.results)
    if report.deleting:
        line = _("Orphaned rows: {found} found, {deleted} deleted ({counts}).").format(
            found=report.found, deleted=report.deleted, counts=counts
        )
    else:
        line = _("Orphaned rows: {found} found ({counts}); nothing deleted.").format(
            found=report.found, counts=counts
        )
        if report.found:
            await maintenance_outbound.ask_orphan_confirmation(
                ctx.deps.pool,
                ctx.deps.admin_chat_id,
                ctx.run_id,
                report.found,
                counts,
                await chats.chat_language(
                    ctx.deps.pool, ctx.deps.admin_chat_id, ctx.deps.default_locale
                ),
            )
    status = before.status
    if report.errors and status in (RunStatus.OK, RunStatus.SKIPPED):
        status = RunStatus.WARN
    return JobOutcome(
        status, f"{before.summary}\n{line}", {**before.details, "orphans": report.to_json()}
    )


async def security_review(ctx: JobContext, days: int = 7) -> JobOutcome:
    policy = ctx.deps.maintenance().security
    result = await security_review_service.review(
        ctx.deps.pool, ctx.now - timedelta(days=days), ctx.now, ctx.deps.tz, policy
    )
    summary = _(
        "{refused} refused actions, {odd} privileged actions at unusual hours, {staff} new staff, "
        "{roles} role changes, {silences} silences; {anomalies} anomalies."
    ).format(
        refused=result.refused,
        odd=result.unusual_hours,
        staff=len(result.new_staff),
        roles=result.role_changes,
        silences=result.silences,
        anomalies=len(result.anomalies),
    )
    status = RunStatus.WARN if result.anomalies else RunStatus.OK
    return JobOutcome(status, summary, result.to_json())


async def performance_analysis(ctx: JobContext) -> JobOutcome:
    policy = ctx.deps.maintenance().performance
    result = await performance.review(
        ctx.deps.pool, ctx.deps.targets.monitor_database_url, ctx.now, policy
    )
    trends = "; ".join(
        f"{t.name} {t.this_week:.2f} ({t.last_week:.2f})"
        for t in result.trends
        if t.this_week is not None and t.last_week is not None
    )
    slowest = result.slowest[0]["query"] if result.slowest else "-"
    summary = _("Slowest statement: {slowest}. This week (last week): {trends}.").format(
        slowest=slowest, trends=trends or "-"
    )
    status = RunStatus.WARN if result.worse else RunStatus.OK
    return JobOutcome(status, summary, result.to_json())


async def fraud_review(ctx: JobContext, days: int = 7) -> JobOutcome:
    url = ctx.deps.targets.monitor_database_url
    if not url:
        return JobOutcome(RunStatus.SKIPPED, _("MONITOR_DATABASE_URL is not set."))
    policy = ctx.deps.maintenance().fraud
    result = await fraud.review(ctx.deps.pool, url, ctx.now, days, policy)
    rate = f"{result.rate:.1f} %" if result.rate is not None else "-"
    before = f"{result.previous_rate:.1f} %" if result.previous_rate is not None else "-"
    worse = ", ".join(r["rule"] for r in result.rules_worse) or "-"
    summary = _(
        "{reviewed} reviewed cases, false positives {rate} (before: {before}). Rules whose false "
        "positives went up: {worse}."
    ).format(reviewed=result.reviewed, rate=rate, before=before, worse=worse)
    too_high = result.rate is not None and result.rate > policy.false_positive_warn_percent
    status = RunStatus.WARN if too_high or result.rules_worse else RunStatus.OK
    return JobOutcome(status, summary, result.to_json())


async def backup_restore_test(ctx: JobContext) -> JobOutcome:
    directory = ctx.deps.targets.backup_dir
    server = ctx.deps.restore_server_url
    if directory is None or server is None:
        return JobOutcome(
            RunStatus.FAILED,
            _("A restore test needs BACKUP_DIR and a PostgreSQL server for the scratch database."),
        )
    phases = {
        "restoring": _("Restoring into a scratch database…"),
        "comparing": _("Comparing row counts with the source…"),
    }

    async def progress(phase: str) -> None:
        await ctx.progress(phases.get(phase, phase))

    result = await backups.restore_test(
        ctx.deps.pool,
        directory,
        pg_restore_bin=ctx.deps.pg_restore_bin,
        restore_server_url=server,
        source_url=ctx.deps.targets.monitor_database_url,
        at=ctx.now,
        policy=ctx.deps.maintenance().backups,
        triggered_by=ctx.triggered_by,
        progress=progress,
    )
    name = result.archive.name if result.archive else "-"
    if result.ok:
        text = _("{archive} restored in {seconds} s; row counts of {tables} tables match.")
        summary = text.format(
            archive=name, seconds=f"{result.restore_seconds:.1f}", tables=len(result.counts)
        )
        await ctx.progress(summary)
        return JobOutcome(RunStatus.OK, summary, result.to_json())
    summary = _("The restore test of {archive} failed ({verdict}): {error}").format(
        archive=name, verdict=result.verdict, error=result.error or "-"
    )
    await ctx.progress(summary)
    return JobOutcome(RunStatus.FAILED, summary, result.to_json())


async def system_updates_checklist(ctx: JobContext) -> JobOutcome:
    """Sunday: a checklist for people (the bot does not patch QuickCart's servers)."""
    deps_run = await runs.last_finished(ctx.deps.pool, "dependency_review")
    fixable = [
        f"{f['package']} → {', '.join(f['fix_versions'])}"
        for f in (deps_run.details.get("findings", []) if deps_run else [])
        if f.get("fix_versions")
    ]
    summary = _(
        "Apply non-critical patches and restart services in the maintenance window. Packages "
        "with a fixed version: {fixable}."
    ).format(fixable=", ".join(fixable[:15]) or "-")
    return JobOutcome(RunStatus.OK, summary, {"fixable": fixable})
