"""Two of the seed's MonthlyMaintenance tasks that report on their own: the fraud model update
(to the fraud analysts) and the documentation review (to the admin chat)."""

from __future__ import annotations

from jobs.context import JobContext
from services.alerts.config import SECTION as ALERTS_SECTION
from services.alerts.config import AlertsRules
from services.docs import health as docs_health
from services.docs.config import DocsRules
from services.i18n import gettext as _
from services.maintenance import fraud_update
from services.maintenance.fraud_model import FraudModelPolicy
from services.maintenance.runs import JobOutcome, RunStatus
from services.sla import SlaRules


async def fraud_model_update(ctx: JobContext) -> JobOutcome:
    url = ctx.deps.targets.monitor_database_url
    if not url:
        return JobOutcome(RunStatus.SKIPPED, _("MONITOR_DATABASE_URL is not set."))
    policy = ctx.deps.rules.section("fraud_model", FraudModelPolicy)
    report = await fraud_update.update(
        ctx.deps.pool,
        monitor_url=url,
        policy=policy,
        now=ctx.now,
        command=ctx.deps.targets.fraud_retrain_command,
    )
    told = await fraud_update.send_report(
        ctx.deps.pool,
        report,
        policy,
        tz=ctx.deps.tz,
        admin_chat_id=ctx.deps.admin_chat_id,
        default_locale=ctx.deps.default_locale,
        dedup=f"fraud-model:{ctx.run_id}",
    )
    flagged = ", ".join(r.now.rule for r in report.flagged) or "-"
    summary = _(
        "{rules} fraud rules analysed over {labelled} labelled cases; over the false-positive "
        "target: {flagged}."
    ).format(rules=len(report.rules), labelled=report.labelled, flagged=flagged)
    retrain = report.retrain or {}
    failed = retrain.get("ran") and retrain.get("status") != "ok"
    status = RunStatus.WARN if report.flagged or failed else RunStatus.OK
    return JobOutcome(status, summary, {**report.to_json(), "told": told})


async def documentation_review(ctx: JobContext) -> JobOutcome:
    """DOCS_DIR: stale documents with owners, the metrics document regenerated from the live
    configuration with its diff, the documentation health report to the admin chat."""
    root = ctx.deps.targets.docs_dir
    if root is None:
        return JobOutcome(
            RunStatus.SKIPPED,
            _("DOCS_DIR is not set: the documentation review is skipped."),
            {"docs_dir": None},
        )
    if not root.is_dir():
        return JobOutcome(
            RunStatus.FAILED, _("DOCS_DIR {path} is not a directory.").format(path=root)
        )
    rules = ctx.deps.rules.section("docs", DocsRules)
    jobs = [
        (name, timing.describe() if timing.enabled else "disabled")
        for name, timing in sorted(ctx.deps.schedule().items())
    ]
    health = await docs_health.monthly_review(
        ctx.deps.pool,
        root,
        rules,
        alerts=ctx.deps.rules.section(ALERTS_SECTION, AlertsRules),
        jobs=jobs,
        sla=ctx.deps.rules.section("sla", SlaRules),
        now=ctx.now,
    )
    await docs_health.send_report(
        ctx.deps.pool,
        health,
        now=ctx.now,
        tz=ctx.deps.tz,
        admin_chat_id=ctx.deps.admin_chat_id,
        default_locale=ctx.deps.default_locale,
        max_diff=rules.max_diff_lines,
        dedup=f"docs-review:{ctx.run_id}",
    )
    summary = _(
        "{count} documents reviewed, {stale} not changed for {days} days; metrics document "
        "+{added} −{removed} lines."
    ).format(
        count=len(health.review.documents),
        stale=len(health.review.stale),
        days=rules.stale_days,
        added=health.added,
        removed=health.removed,
    )
    status = RunStatus.WARN if health.review.stale or health.write_error else RunStatus.OK
    return JobOutcome(status, summary, health.to_json(ctx.now))
