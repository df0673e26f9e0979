"""/jobs, /jobs history [name], /runjob <name>, /report [weekly|monthly], and the job buttons.

Staff may look; only admins run jobs. Destructive jobs ask for confirmation by button. A run
started here goes on in the background: its result arrives through the outbox like a
scheduled one.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import asyncpg
from aiogram import F
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from loguru import logger

from handlers.asked import Asked, command
from handlers.buttons import Press, as_markup, settle
from handlers.routes import Routes
from jobs.cli import list_jobs
from jobs.context import JobDeps
from jobs.registry import JOBS
from jobs.runner import run_now
from services import staff
from services.i18n import current_locale
from services.maintenance import render as maintenance_render
from services.maintenance import runs
from services.maintenance.render import JobAction
from services.reports import outbound as report_outbound
from services.reports.build import build as build_report
from services.reports.build import quickcart_database
from services.staff import Action
from services.text import echo, esc, shorten
from services.users import Person

router = Routes(__name__)
_running: set[asyncio.Task[Any]] = set()


@command(router, "jobs", "job_deps")
async def cmd_jobs(message: Message, asked: Asked[JobDeps]) -> None:
    pool, deps = asked.pool, asked.ctx
    args = asked.args.split()
    if args and args[0] == "history":
        name = args[1] if len(args) > 1 else None
        history = await runs.history(pool, name, limit=10)
        if not history:
            await message.answer(_("No maintenance runs yet."))
            return
        text = "\n\n".join(maintenance_render.render_run(run, deps.tz) for run in history)
        await message.answer(shorten(text, 4000))
        return
    lines = [_("<b>Maintenance jobs</b> (times in {zone})").format(zone=esc(deps.timezone))]
    for job in await list_jobs(deps.rules, deps.timezone, asked.clock.now(), pool):
        when = job.next_run.astimezone(deps.tz).strftime("%a %d %b %H:%M") if job.next_run else "—"
        last = (
            maintenance_render.STATUS_ICONS[job.last.status]
            + " "
            + maintenance_render.status_label(job.last.status)
            if job.last
            else _("never ran")
        )
        lines.append(
            _("{name}: next {when}; last: {last}").format(
                name=f"<code>{esc(job.name)}</code>", when=when, last=last
            )
        )
    await message.answer("\n".join(lines))


def _start(deps: JobDeps, name: str, person: Person, confirmed: bool) -> None:
    async def go() -> None:
        try:
            await run_now(name, deps, triggered_by="staff", actor_id=person.id, confirmed=confirmed)
        except Exception as exc:  # the run row already says failed when it got that far
            logger.opt(exception=exc).error("job {} started by {} failed", name, person.id)

    task = asyncio.create_task(go(), name=f"job-{name}")
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _run_or_confirm(
    deps: JobDeps, name: str, person: Person, chat_id: int, *, confirmed: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    job = JOBS[name]
    if job.destructive and not confirmed:
        markup = as_markup(maintenance_render.confirm_keyboard(name))
        text = _("{job} changes QuickCart's systems. Run it now?").format(
            job=esc(maintenance_render.title(name))
        )
        return text, markup
    await staff.done(
        deps.pool, person, "jobs.run", target=name, chat_id=chat_id, confirmed=confirmed
    )
    _start(deps, name, person, confirmed)
    if deps.admin_chat_id is None:
        text = _("{job} started; /jobs history {name} shows its result when it is done.")
    else:
        text = _("{job} started; its result will be posted in the admin chat.")
    return text.format(job=esc(maintenance_render.title(name)), name=esc(name)), None


def _job_list() -> str:
    """What /runjob without a name answers: every job, by name, and how to run one."""
    lines = [_("Which job? Send /runjob followed by its name:")]
    for name, job in JOBS.items():
        if job.destructive:
            line = _("{name}: {title} (asks for confirmation first)")
        else:
            line = _("{name}: {title}")
        lines.append(
            line.format(name=f"<code>{esc(name)}</code>", title=esc(maintenance_render.title(name)))
        )
    return "\n".join(lines)


@command(router, "runjob", "job_deps")
async def cmd_runjob(message: Message, asked: Asked[JobDeps]) -> None:
    name = asked.args.strip()
    if not name:
        await message.answer(_job_list())
        return
    if name not in JOBS:
        await message.answer(
            _("Unknown job {name}. Known jobs: {names}").format(
                name=echo(name or "-"), names=esc(", ".join(JOBS))
            )
        )
        return
    text, markup = await _run_or_confirm(
        asked.ctx, name, asked.person, message.chat.id, confirmed=False
    )
    await message.answer(text, reply_markup=markup)


@router.callback_query(Press(JobAction, F.act.in_({"run", "no", "retry"})))
async def on_job_button(
    query: CallbackQuery,
    callback_data: JobAction,
    person: Person | None,
    pool: asyncpg.Pool,
    job_deps: JobDeps,
) -> None:
    chat_id = query.message.chat.id if query.message else 0
    person = await staff.require(pool, person, Action.RUN_JOBS, chat_id=chat_id)
    name = callback_data.job
    if name not in JOBS:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if callback_data.act == "no":
        await staff.done(pool, person, "jobs.cancel", target=name, chat_id=chat_id)
        await settle(query, _("Cancelled."))
        return
    deps = job_deps
    confirmed = callback_data.act == "run"
    text, markup = await _run_or_confirm(deps, name, person, chat_id, confirmed=confirmed)
    if markup is None:
        await settle(query, post=text)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


@command(router, "report", "job_deps")
async def cmd_report(message: Message, asked: Asked[JobDeps]) -> None:
    pool, clock, person, deps = asked.pool, asked.clock, asked.person, asked.ctx
    arg = (asked.args or "weekly").strip().lower()
    if arg not in ("weekly", "monthly"):
        await message.answer(_("Use /report weekly or /report monthly."))
        return
    kind: Literal["weekly", "monthly"] = "weekly" if arg == "weekly" else "monthly"
    await message.answer(_("Building the report…"))
    _data, rendered = await build_report(
        pool,
        kind,
        clock.now(),
        deps.tz,
        uptime_target=deps.maintenance().uptime_target_percent,
        language=current_locale(),  # the chat's: a group's own, a private chat's person's
        to_now=kind == "weekly",  # the last 7 days up to now; the schedule's is the full week
        quickcart=quickcart_database(deps.targets, deps.checks()),
    )
    await report_outbound.send(pool, message.chat.id, rendered)
    await staff.done(pool, person, "reports.build", target=kind, chat_id=message.chat.id)
