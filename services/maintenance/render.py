"""Maintenance runs as people read them: job titles, statuses, a run's message and the job's
buttons (`JobAction`, prefix `mj`: run or cancel a destructive job, retry a failed one).
outbound.py queues them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, Longest, button
from services.i18n import N_
from services.i18n import gettext as _
from services.maintenance.runs import MaintenanceRun, RunStatus
from services.message import Keyboard, key, keyboard
from services.text import esc, shorten

JOB_TITLES: dict[str, str] = {
    "log_rotation": N_("Log rotation and retention"),
    "cache_cleanup": N_("Cache cleanup"),
    "backup_verification": N_("Backup verification"),
    "health_check_report": N_("System health check and report"),
    "database_health": N_("Database health"),
    "payment_check": N_("Payment system check"),
    "log_analysis": N_("Log analysis"),
    "backup_verification_report": N_("Backup verification report"),
    "cache_cleanup_report": N_("Cache cleanup report"),
    "dependency_review": N_("Dependency review"),
    "database_maintenance": N_("Database maintenance"),
    "security_review": N_("Security review"),
    "performance_analysis": N_("Performance analysis"),
    "fraud_review": N_("Fraud review"),
    "backup_restore_test": N_("Backup restore test"),
    "system_updates_checklist": N_("System updates checklist"),
    "weekly_report": N_("Weekly report"),
    "monthly_maintenance": N_("Monthly maintenance"),
    "compliance_report": N_("Compliance report (monthly report)"),
}

STATUS_LABELS: dict[RunStatus, str] = {
    RunStatus.RUNNING: N_("running"),
    RunStatus.OK: N_("ok"),
    RunStatus.WARN: N_("warning"),
    RunStatus.FAILED: N_("failed"),
    RunStatus.SKIPPED: N_("skipped"),
}

STATUS_ICONS: dict[RunStatus, str] = {
    RunStatus.RUNNING: "⏳",
    RunStatus.OK: "✅",
    RunStatus.WARN: "⚠️",
    RunStatus.FAILED: "❌",
    RunStatus.SKIPPED: "⏭",
}


@button("mj")
@dataclass(frozen=True)
class JobAction(Button):
    """Run a destructive job now ("run" confirms, "no" cancels), or retry a failed one."""

    act: Literal["run", "no", "retry"]
    job: Annotated[str, Longest(40)]


def callback(act: Literal["run", "no", "retry"], job: str) -> str:
    return JobAction(act, job).pack()


def title(job: str) -> str:
    return _(JOB_TITLES[job]) if job in JOB_TITLES else job


def status_label(status: RunStatus) -> str:
    return _(STATUS_LABELS[status])


def local_time(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render_run(run: MaintenanceRun, tz: ZoneInfo) -> str:
    """One run as a short HTML message: job, status, when, how long, the summary."""
    duration = run.duration_s
    lines = [
        _("{icon} <b>{job}</b>: {status}").format(
            icon=STATUS_ICONS[run.status], job=esc(title(run.job)), status=status_label(run.status)
        ),
        _("Started {at}, took {seconds} s.").format(
            at=local_time(run.started_at, tz),
            seconds=f"{duration:.1f}" if duration is not None else "?",
        ),
    ]
    if run.summary:
        lines.append(esc(shorten(run.summary, 3000)))
    return "\n".join(lines)


def retry_keyboard(job: str) -> Keyboard:
    return keyboard([[key(_("Retry"), callback("retry", job))]])


def confirm_keyboard(job: str) -> Keyboard:
    run = key(_("Run it now"), callback("run", job))
    return keyboard([[run, key(_("Cancel"), callback("no", job))]])
