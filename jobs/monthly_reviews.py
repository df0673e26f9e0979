"""Two of the seed's MonthlyMaintenance tasks that report on their own: the fraud model update
(to the fraud analysts) and the documentation review (to the admin chat)."""

from __future__ import annotations

from jobs.runner import JobContext
from services.i18n import gettext as _
from services.maintenance import fraud_update
from services.maintenance.fraud_model import FraudModelPolicy
from services.maintenance.runs import JobOutcome, RunStatus


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
