"""What people and the scheduler do with a quarter's checklist. Every change is one transaction
that writes the task, audits who did it and queues what must be said (services.outbox)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services import chats, outbox, roster, staff
from services.clock import Clock
from services.i18n import gettext as _
from services.i18n import use_locale
from services.localized import StaffAudience, send_in
from services.quarterly import store
from services.quarterly.config import QuarterlyRules, quarter_of
from services.quarterly.render import render_checklist, render_reminder, render_report
from services.quarterly.store import QuarterTask
from services.staff import Action
from services.storage.db import transaction
from services.users import Person, Role


class QuarterError(Exception):
    """An expected refusal a handler turns into a sentence."""


class TaskNotFound(QuarterError):
    pass


class NotTheOwner(QuarterError):
    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


@dataclass(frozen=True)
class QuarterContext(StaffAudience):
    rules: QuarterlyRules


@dataclass(frozen=True)
class Evidence:
    note: str | None = None
    file_id: str | None = None
    kind: str | None = None  # document, photo
    file_name: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.note and self.note.strip()) and not self.file_id


@dataclass(frozen=True)
class TickOutcome:
    task: QuarterTask
    changed: bool
    remaining: int
    report_sent: bool


async def current(db: Any, clock: Clock, ctx: QuarterContext) -> tuple[str, list[QuarterTask]]:
    """This quarter's checklist, created if the scheduler has not yet (idempotent)."""
    now = clock.now()
    quarter = quarter_of(now, ctx.tz)
    await store.ensure(db, quarter, ctx.rules.plan(quarter), now)
    return quarter, await store.tasks(db, quarter)


def _may_tick(person: Person, task: QuarterTask) -> bool:
    return task.owner_role in person.roles or Role.ADMIN in person.roles


async def _owned(
    pool: asyncpg.Pool, person: Person, task_id: int, chat_id: int | None
) -> QuarterTask:
    """The task, if `person` owns it (its role) or is an admin; a refusal is audited on its own,
    outside the transaction that would roll it back."""
    task = await store.get(pool, task_id)
    if task is None:
        raise TaskNotFound(str(task_id))
    if not _may_tick(person, task):
        await staff.refuse(
            pool, person, Action.TICK_QUARTER, target=f"{task.quarter}:{task.key}", chat_id=chat_id
        )
        raise NotTheOwner(task.owner_role)
    return task


async def tick(
    pool: asyncpg.Pool,
    clock: Clock,
    ctx: QuarterContext,
    task_id: int,
    person: Person,
    evidence: Evidence,
    *,
    chat_id: int | None = None,
) -> TickOutcome:
    """The task's owner (or an admin) marks it done with its evidence. The last task of the
    quarter sends the quarterly report."""
    await staff.require(pool, person, Action.TICK_QUARTER, target=str(task_id), chat_id=chat_id)
    task = await _owned(pool, person, task_id, chat_id)
    now = clock.now()
    async with transaction(pool) as conn:
        await store.get(conn, task_id, lock=True)
        changed = await store.mark_done(
            conn,
            task_id,
            by=person.id,
            at=now,
            note=(evidence.note or "").strip()[:4000] or None,
            file_id=evidence.file_id,
            kind=evidence.kind,
            file_name=(evidence.file_name or None) and evidence.file_name[:200],
        )
        if changed:
            await staff.done(
                conn,
                person,
                Action.TICK_QUARTER,
                target=f"{task.quarter}:{task.key}",
                chat_id=chat_id,
                note=bool(evidence.note),
                file=evidence.file_id is not None,
            )
        tasks = await store.tasks(conn, task.quarter)
        remaining = sum(1 for t in tasks if not t.done)
        sent = False
        if changed and remaining == 0:
            sent = await send_report(conn, ctx, task.quarter, now, reason="complete")
        fresh = next(t for t in tasks if t.id == task_id)
        return TickOutcome(fresh, changed, remaining, sent)


async def reopen(
    pool: asyncpg.Pool,
    clock: Clock,
    ctx: QuarterContext,
    task_id: int,
    person: Person,
    *,
    chat_id: int | None = None,
) -> QuarterTask:
    await staff.require(pool, person, Action.TICK_QUARTER, target=str(task_id), chat_id=chat_id)
    task = await _owned(pool, person, task_id, chat_id)
    async with transaction(pool) as conn:
        if await store.reopen(conn, task_id):
            await staff.done(
                conn, person, "quarter.reopen", target=f"{task.quarter}:{task.key}", chat_id=chat_id
            )
        found = await store.get(conn, task_id)
        assert found is not None
        return found


async def send_report(
    db: Any, ctx: QuarterContext, quarter: str, now: datetime, *, reason: str
) -> bool:
    """The quarterly report to the admin chat, once per quarter; evidence files follow it."""
    if ctx.admin_chat_id is None or not await store.claim_report(db, quarter, now, reason):
        return False
    tasks = await store.tasks(db, quarter)
    language = await chats.chat_language(db, ctx.admin_chat_id, ctx.default_locale)
    await send_in(
        db,
        ctx.admin_chat_id,
        language,
        lambda: render_report(quarter, tasks, ctx.tz, complete=reason == "complete"),
        dedup_key=f"quarter-report:{quarter}",
        priority=outbox.PRIORITY_REPORT,
    )
    for task in tasks:
        if task.evidence_file and task.evidence_kind in ("document", "photo"):
            with use_locale(language):
                caption = _("Evidence: {title} ({name})").format(
                    title=_(task.title), name=task.done_by_name or "?"
                )
            await outbox.enqueue(
                db,
                outbox.OutboxMessage(
                    chat_id=ctx.admin_chat_id,
                    kind=task.evidence_kind,  # type: ignore[arg-type]
                    payload={task.evidence_kind: task.evidence_file, "caption": caption[:1000]},
                    dedup_key=f"quarter-evidence:{task.id}",
                    priority=outbox.PRIORITY_REPORT,
                ),
            )
    return True


@dataclass(frozen=True)
class QuarterStart:
    quarter: str
    created: int
    reported: list[str]


async def start_quarter(pool: asyncpg.Pool, clock: Clock, ctx: QuarterContext) -> QuarterStart:
    """The scheduler on the quarter's first day: the last quarters' reports (with what
    slipped), the new checklist, and the checklist posted in the admin chat."""
    now = clock.now()
    quarter = quarter_of(now, ctx.tz)
    async with transaction(pool) as conn:
        reported = []
        for old in await store.open_quarters(conn, quarter):
            if await send_report(conn, ctx, old, now, reason="quarter_end"):
                reported.append(old)
        created = await store.ensure(conn, quarter, ctx.rules.plan(quarter), now)
        if created and ctx.admin_chat_id is not None:
            tasks = await store.tasks(conn, quarter)
            await ctx.tell_admin_chat(
                conn,
                lambda: render_checklist(quarter, tasks, ctx.tz),
                dedup_key=f"quarter-checklist:{quarter}",
                priority=outbox.PRIORITY_REPORT,
            )
    return QuarterStart(quarter, created, reported)


@dataclass(frozen=True)
class Reminded:
    quarter: str
    open_tasks: int
    people: list[int]


async def remind_owners(pool: asyncpg.Pool, clock: Clock, ctx: QuarterContext) -> Reminded:
    """Weekly: each owner of an open task gets their open tasks privately (once a week)."""
    now = clock.now()
    quarter, tasks = await current(pool, clock, ctx)
    open_tasks = [t for t in tasks if not t.done]
    by_role: dict[str, list[QuarterTask]] = defaultdict(list)
    for task in open_tasks:
        by_role[task.owner_role].append(task)
    per_person: dict[int, tuple[roster.StaffMember, list[QuarterTask]]] = {}
    for role, role_tasks in by_role.items():
        for member in await roster.members_with(pool, [role]):
            entry = per_person.setdefault(member.user_id, (member, []))
            entry[1].extend(role_tasks)
    week = now.astimezone(ctx.tz).strftime("%G-W%V")
    told: list[int] = []
    async with transaction(pool) as conn:
        for user_id, (member, mine) in sorted(per_person.items()):
            row = await send_in(
                conn,
                user_id,
                member.language or ctx.default_locale,
                lambda: render_reminder(quarter, mine, ctx.tz),  # noqa: B023 (made at once)
                dedup_key=f"quarter-remind:{quarter}:{week}:{user_id}",
                priority=outbox.PRIORITY_REPORT,
            )
            if row is not None:
                told.append(user_id)
        await store.mark_reminded(conn, [t.id for t in open_tasks], now)
    return Reminded(quarter, len(open_tasks), told)
