"""The one module that queues maintenance messages to the admin chat: a run's result, a long
run's progress (one message, then edits of it) and the question before orphans are deleted."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services import outbox
from services.i18n import gettext as _
from services.localized import send_in
from services.maintenance.render import confirm_keyboard, render_run, retry_keyboard, title
from services.maintenance.runs import MaintenanceRun, RunStatus
from services.message import Rendered
from services.storage.types import Executor
from services.text import esc


async def push_run(
    db: Executor, chat_id: int, run: MaintenanceRun, tz: ZoneInfo, language: str | None
) -> int | None:
    """The run's result to the admin chat; failed and warn runs carry a Retry button."""
    retry = run.status in (RunStatus.FAILED, RunStatus.WARN)
    return await send_in(
        db,
        chat_id,
        language,
        lambda: Rendered(render_run(run, tz), retry_keyboard(run.job) if retry else None),
        dedup_key=f"maintenance_run:{run.id}:result",
        owner=f"maintenance_run:{run.id}",
        priority=outbox.PRIORITY_REPORT,
    )


@dataclass(eq=False)
class ProgressMessage:
    """A long run's progress: one message, then edits of it (the outbox edits by `ref_id`)."""

    db: Executor
    chat_id: int | None
    run_id: int
    job: str
    _first: int | None = field(default=None, init=False)  # the message's outbox row
    _step: int = field(default=0, init=False)

    async def update(self, text: str) -> None:
        if self.chat_id is None:
            return
        body = f"⏳ <b>{esc(title(self.job))}</b>\n{esc(text)}"
        self._step += 1
        kind: outbox.Kind = "text" if self._first is None else "edit"
        row = await outbox.enqueue(
            self.db,
            outbox.OutboxMessage(
                chat_id=self.chat_id,
                kind=kind,
                payload={"text": body, "parse_mode": "HTML"},
                ref_id=self._first,
                dedup_key=f"maintenance_run:{self.run_id}:progress:{self._step}",
                owner=f"maintenance_run:{self.run_id}",
                coalesce_key=f"maintenance_run:{self.run_id}:progress",
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

    def question() -> Rendered:
        text = _(
            "🧹 <b>{found} orphaned rows</b> in QuickCart's database ({counts}). They are deleted "
            "in batches only in a maintenance window or when you confirm: “Run it now” runs the "
            "database maintenance with the deletion."
        ).format(found=found, counts=esc(counts))
        return Rendered(text, confirm_keyboard("database_maintenance"))

    return await send_in(
        db,
        chat_id,
        language,
        question,
        dedup_key=f"maintenance_run:{run_id}:orphans",
        owner=f"maintenance_run:{run_id}",
        priority=outbox.PRIORITY_REPORT,
    )
