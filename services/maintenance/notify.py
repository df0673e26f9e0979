"""Rendering maintenance runs for people, and pushing them to the admin chat via the outbox.

Buttons are packed strings the handlers' `JobAction` factory parses (prefix `mj`, fields
`act` and `job`); a unit test checks both sides pack alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from services import outbox
from services.buttons import Button, Longest, button
from services.i18n import N_, use_locale
from services.i18n import gettext as _
from services.maintenance.runs import MaintenanceRun, RunStatus
from services.storage.types import Executor
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


def retry_keyboard(job: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": _("Retry"), "callback_data": callback("retry", job)}]]}


def confirm_keyboard(job: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                {"text": _("Run it now"), "callback_data": callback("run", job)},
                {"text": _("Cancel"), "callback_data": callback("no", job)},
            ]
        ]
    }


async def push_run(
    db: Executor, chat_id: int, run: MaintenanceRun, tz: ZoneInfo, language: str | None
) -> int | None:
    """The run's result to the admin chat; failed and warn runs carry a Retry button."""
    with use_locale(language):
        payload: dict[str, Any] = {"text": render_run(run, tz), "parse_mode": "HTML"}
        if run.status in (RunStatus.FAILED, RunStatus.WARN):
            payload["reply_markup"] = retry_keyboard(run.job)
    return await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=chat_id,
            kind="text",
            payload=payload,
            dedup_key=f"maintenance_run:{run.id}:result",
            owner=f"maintenance_run:{run.id}",
            priority=outbox.PRIORITY_REPORT,
        ),
    )


class ProgressMessage:
    """A long run's progress: one message, then edits of it (the outbox edits by `ref_id`)."""

    def __init__(self, db: Executor, chat_id: int | None, run_id: int, job: str) -> None:
        self._db = db
        self._chat_id = chat_id
        self._run_id = run_id
        self._job = job
        self._first: int | None = None
        self._step = 0

    async def update(self, text: str) -> None:
        if self._chat_id is None:
            return
        body = f"⏳ <b>{esc(title(self._job))}</b>\n{esc(text)}"
        self._step += 1
        kind: outbox.Kind = "text" if self._first is None else "edit"
        row = await outbox.enqueue(
            self._db,
            outbox.OutboxMessage(
                chat_id=self._chat_id,
                kind=kind,
                payload={"text": body, "parse_mode": "HTML"},
                ref_id=self._first,
                dedup_key=f"maintenance_run:{self._run_id}:progress:{self._step}",
                owner=f"maintenance_run:{self._run_id}",
                coalesce_key=f"maintenance_run:{self._run_id}:progress",
                priority=outbox.PRIORITY_REPORT,
            ),
        )
        if self._first is None:
            self._first = row


async def ask_orphan_confirmation(
    db: Executor,
    chat_id: int | None,
    run_id: int,
    found: int,
    counts: str,
    language: str | None,
) -> int | None:
    """Orphans were counted outside a maintenance window: deleting them needs a person's
    confirmation, which runs database maintenance again, confirmed (the job's own buttons)."""
    if chat_id is None:
        return None
    with use_locale(language):
        text = _(
            "🧹 <b>{found} orphaned rows</b> in QuickCart's database ({counts}). They are deleted "
            "in batches only in a maintenance window or when you confirm: “Run it now” runs the "
            "database maintenance with the deletion."
        ).format(found=found, counts=esc(counts))
        markup = confirm_keyboard("database_maintenance")
    return await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=chat_id,
            kind="text",
            payload={"text": text, "parse_mode": "HTML", "reply_markup": markup},
            dedup_key=f"maintenance_run:{run_id}:orphans",
            owner=f"maintenance_run:{run_id}",
            priority=outbox.PRIORITY_REPORT,
        ),
    )
