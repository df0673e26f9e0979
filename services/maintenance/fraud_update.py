"""The monthly fraud model update, end to end: read the cases, analyse them
(services/maintenance/fraud_model.py), retrain when enough new labelled cases exist, record the
run, and report to the fraud analysts (privately; the admin chat when nobody holds the role)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services import chats, outbox, roster
from services.i18n import gettext as _
from services.localized import send_in
from services.maintenance import retrain
from services.maintenance.fraud_model import (
    FraudModelPolicy,
    ModelReport,
    RuleReport,
    analyse,
    count_new_labelled,
    fetch_cases,
)
from services.storage.types import Executor
from services.text import esc
from services.users import Role


async def last_retrained_until(db: Executor) -> datetime | None:
    found: datetime | None = await db.fetchval(
        "SELECT until FROM fraud_model_updates WHERE retrained ORDER BY ran_at DESC LIMIT 1"
    )
    return found


async def record(db: Executor, report: ModelReport, now: datetime) -> int:
    retrained = bool(report.retrain and report.retrain.get("ran"))
    row_id: int = await db.fetchval(
        """
        INSERT INTO fraud_model_updates (ran_at, since, until, labelled, new_labelled, report,
                                         retrained, retrain)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """,
        now,
        report.since,
        report.until,
        report.labelled,
        report.new_labelled,
        report.to_json(),
        retrained,
        report.retrain,
    )
    return row_id


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _change(value: float | None) -> str:
    if value is None:
        return _("new")
    return f"{value:+.1f} pt"


def _rule_line(rule: RuleReport) -> str:
    now = rule.now
    line = _(
        "<b>{rule}</b>: {alerts} alerts, {confirmed} confirmed fraud, {fp} false positives, "
        "precision {precision} ({precision_change}), false positives {fp_rate} ({fp_change})"
    ).format(
        rule=esc(now.rule),
        alerts=now.alerts,
        confirmed=now.confirmed,
        fp=now.false_positives,
        precision=_pct(now.precision),
        precision_change=_change(rule.precision_change),
        fp_rate=_pct(now.false_positive_rate),
        fp_change=_change(rule.false_positive_change),
    )
    return ("⚠️ " if rule.over_target else "• ") + line


def render_report(report: ModelReport, policy: FraudModelPolicy, tz: ZoneInfo) -> str:
    lines = [
        "🛡 "
        + _("<b>Monthly fraud model update</b> ({since} – {until})").format(
            since=report.since.astimezone(tz).strftime("%Y-%m-%d"),
            until=report.until.astimezone(tz).strftime("%Y-%m-%d"),
        ),
        _(
            "{labelled} labelled cases in {days} days; change against the {days} days before."
        ).format(labelled=report.labelled, days=policy.window_days),
        "",
    ]
    lines += [_rule_line(r) for r in report.rules] or [_("No fraud reviews in this period.")]
    flagged = report.flagged
    if flagged:
        lines += [
            "",
            _("<b>Over the {target} % false-positive target</b>").format(
                target=f"{policy.false_positive_target_percent:g}"
            ),
        ]
        for rule in flagged:
            s = rule.suggestion
            if s is None:
                lines.append(
                    "• "
                    + _("{rule}: no score threshold reaches the target; review the rule.").format(
                        rule=esc(rule.now.rule)
                    )
                )
            else:
                lines.append(
                    "• "
                    + _(
                        "{rule}: raise the score threshold to {threshold}: {fp} false positives, "
                        "{kept} of the confirmed fraud still caught ({alerts} alerts)."
                    ).format(
                        rule=esc(rule.now.rule),
                        threshold=f"{s.threshold:.3f}",
                        fp=_pct(s.false_positive_percent),
                        kept=_pct(s.fraud_kept_percent),
                        alerts=s.alerts_kept,
                    )
                )
    lines.append("")
    lines.append(_retrain_line(report, policy))
    return "\n".join(lines)


def _retrain_line(report: ModelReport, policy: FraudModelPolicy) -> str:
    result = report.retrain or {}
    if not result.get("ran"):
        if result.get("reason") == "no_command":
            return _(
                "{new} new labelled cases: enough to retrain, but FRAUD_RETRAIN_COMMAND is not set."
            ).format(new=report.new_labelled)
        return _("{new} new labelled cases (retraining needs {min}): not retrained.").format(
            new=report.new_labelled, min=policy.retrain_min_cases
        )
    if result["status"] == "ok":
        return "✅ " + _("Retrained on {new} new labelled cases in {seconds} s.").format(
            new=report.new_labelled, seconds=result["duration_s"]
        )
    if result["status"] == "timeout":
        return "❌ " + _("Retraining was stopped after {seconds} s (time limit).").format(
            seconds=f"{policy.retrain_timeout_s:g}"
        )
    return "❌ " + _("Retraining failed (exit code {code}): {output}").format(
        code=result.get("exit_code", "-"), output=esc(str(result.get("output", ""))[-300:])
    )


async def update(
    db: Executor,
    *,
    monitor_url: str,
    policy: FraudModelPolicy,
    now: datetime,
    command: str | None,
) -> ModelReport:
    """Analyse, retrain if due, record. The report is sent by `send_report`."""
    current, previous = await fetch_cases(monitor_url, policy, now)
    since = now - timedelta(days=policy.window_days)
    report = analyse(current, previous, policy, since, now)
    report.new_labelled = count_new_labelled(current, await last_retrained_until(db))
    if report.new_labelled < policy.retrain_min_cases:
        report.retrain = {"ran": False, "reason": "too_few_cases"}
    elif not command:
        report.retrain = {"ran": False, "reason": "no_command"}
    else:
        env = {
            "QC_FRAUD_SINCE": since.isoformat(),
            "QC_FRAUD_UNTIL": now.isoformat(),
            "QC_FRAUD_NEW_CASES": str(report.new_labelled),
        }
        result = await retrain.run(command, policy.retrain_timeout_s, env)
        report.retrain = result.to_json()
    await record(db, report, now)
    return report


async def send_report(
    db: Executor,
    report: ModelReport,
    policy: FraudModelPolicy,
    *,
    tz: ZoneInfo,
    admin_chat_id: int | None,
    default_locale: str,
    dedup: str,
) -> list[int]:
    """Privately to each fraud analyst; to the admin chat when nobody holds the role.
    Returns the chats it went to."""
    analysts = await roster.members_with(db, [Role.FRAUD_ANALYST.value])
    targets: list[tuple[int, str]] = [(m.user_id, m.language or default_locale) for m in analysts]
    if not targets and admin_chat_id is not None:
        targets = [(admin_chat_id, await chats.chat_language(db, admin_chat_id, default_locale))]
    for chat_id, language in targets:
        await send_in(
            db,
            chat_id,
            language,
            lambda: render_report(report, policy, tz),
            dedup_key=f"{dedup}:{chat_id}",
            priority=outbox.PRIORITY_REPORT,
        )
    return [c for c, _lang in targets]
