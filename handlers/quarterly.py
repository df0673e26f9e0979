"""`/quarter`: this quarter's deep maintenance checklist. A task's button asks its owner for the
evidence (a note, a file or a photo, the next message they send in that chat); the last task
done sends the quarterly report (services/quarterly)."""

from __future__ import annotations

import asyncpg
from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.buttons import Press, as_markup, chat_of
from handlers.refusals import refusal
from handlers.routes import Routes
from services import staff
from services.clock import Clock
from services.escalation.render import role_label
from services.quarterly import actions, store
from services.quarterly.actions import Evidence, NotTheOwner, QuarterContext, TaskNotFound
from services.quarterly.render import (
    QuarterAction,
    render_checklist,
    render_evidence_prompt,
    render_ticked,
)
from services.staff import Action, NotAllowed
from services.text import esc
from services.users import Person

router = Routes(__name__)


class QuarterEvidence(StatesGroup):
    waiting = State()


def _refusal(error: Exception) -> str:
    if isinstance(error, NotTheOwner):
        return _(
            "Only the task's owner ({role}) or an admin may do that. This attempt was recorded."
        ).format(role=role_label(error.role))
    if isinstance(error, TaskNotFound):
        return _("That task no longer exists.")
    return refusal(error)


@router.message(Command("quarter"))
async def cmd_quarter(
    message: Message,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    quarter_context: QuarterContext,
) -> None:
    try:
        await staff.require(pool, person, Action.VIEW_QUARTER, chat_id=message.chat.id)
    except NotAllowed as error:
        await message.answer(refusal(error))
        return
    ctx = quarter_context
    quarter, tasks = await actions.current(pool, clock, ctx)
    rendered = render_checklist(quarter, tasks, ctx.tz)
    await message.answer(rendered.text, reply_markup=as_markup(rendered.reply_markup))


@router.callback_query(Press(QuarterAction, F.act == "tick"))
async def on_tick(
    query: CallbackQuery,
    callback_data: QuarterAction,
    person: Person,
    pool: asyncpg.Pool,
    state: FSMContext,
) -> None:
    """Ask for the evidence first; the task is ticked when it arrives (on_evidence)."""
    chat_id = chat_of(query)
    try:  # the permission table first (audited), then the task's own owner
        await staff.require(
            pool, person, Action.TICK_QUARTER, target=str(callback_data.task), chat_id=chat_id
        )
    except NotAllowed as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    task = await store.get(pool, callback_data.task)
    if task is None:
        await query.answer(_refusal(TaskNotFound(str(callback_data.task))), show_alert=True)
        return
    if task.done:
        await query.answer(_("That task is already done."), show_alert=True)
        return
    if not (task.owner_role in person.roles or "admin" in person.roles):
        await staff.refuse(
            pool, person, Action.TICK_QUARTER, target=f"{task.quarter}:{task.key}", chat_id=chat_id
        )
        await query.answer(_refusal(NotTheOwner(task.owner_role)), show_alert=True)
        return
    await state.set_state(QuarterEvidence.waiting)
    await state.update_data(task=task.id)
    await query.answer()
    if query.message is not None:
        await query.message.answer(render_evidence_prompt(task))


@router.callback_query(Press(QuarterAction, F.act == "undo"))
async def on_undo(
    query: CallbackQuery,
    callback_data: QuarterAction,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    quarter_context: QuarterContext,
) -> None:
    chat_id = chat_of(query)
    ctx = quarter_context
    try:
        task = await actions.reopen(pool, clock, ctx, callback_data.task, person, chat_id=chat_id)
    except (NotAllowed, NotTheOwner, TaskNotFound) as error:
        await query.answer(_refusal(error), show_alert=True)
        return
    await query.answer(_("“{title}” is open again.").format(title=_(task.title)))


@router.message(QuarterEvidence.waiting, Command("cancel"))
async def on_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Left open; nothing was recorded."))


@router.message(QuarterEvidence.waiting, ~F.text.startswith("/"))
async def on_evidence(
    message: Message,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    quarter_context: QuarterContext,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    evidence = _evidence_of(message)
    if evidence.empty:
        await message.answer(_("Send a note, a file or a photo as evidence, or /cancel."))
        return
    ctx = quarter_context
    try:
        outcome = await actions.tick(
            pool, clock, ctx, int(data.get("task", 0)), person, evidence, chat_id=message.chat.id
        )
    except (NotAllowed, NotTheOwner, TaskNotFound) as error:
        await state.clear()
        await message.answer(_refusal(error))
        return
    await state.clear()
    if not outcome.changed:
        await message.answer(_("That task is already done."))
        return
    text = render_ticked(outcome.task, outcome.remaining)
    if outcome.report_sent:
        text += "\n" + esc(_("Every task is done: the quarterly report is in the admin chat."))
    await message.answer(text)


def _evidence_of(message: Message) -> Evidence:
    note = message.text or message.caption
    if message.document is not None:
        return Evidence(
            note=note,
            file_id=message.document.file_id,
            kind="document",
            file_name=message.document.file_name,
        )
    if message.photo:
        return Evidence(note=note, file_id=message.photo[-1].file_id, kind="photo")
    return Evidence(note=note)
