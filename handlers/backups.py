"""/backupstatus for staff: the last seven backups, the last restore test, the next check."""

from __future__ import annotations

import asyncpg
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.buttons import Press, as_markup, chat_of, redraw
from handlers.routes import Routes
from services import staff
from services.backups.status import backup_status
from services.checks.config import ChecksContext
from services.checks.render import BackupAction, render_backup_status
from services.clock import Clock
from services.staff import Action
from services.users import Person

router = Routes(__name__)


async def _status_text(
    checks: ChecksContext, clock: Clock, pool: asyncpg.Pool
) -> tuple[str, InlineKeyboardMarkup | None]:
    targets = checks.targets
    if targets.backup_dir is None:
        return _("BACKUP_DIR is not set, so there are no backups to show."), None
    section = checks.rules.backups
    timezone = checks.tz.key
    status = await backup_status(
        pool,
        targets.backup_dir,
        pg_restore_bin=targets.pg_restore_bin,
        clock=clock,
        budget_s=3.0,
        verify_at=section.verify_at,
        timezone=timezone,
    )
    rendered = render_backup_status(status, now=clock.now(), timezone=timezone)
    return rendered.text, as_markup(rendered.keyboard)


@router.message(Command("backupstatus"))
async def cmd_backupstatus(
    message: Message,
    person: Person | None,
    checks: ChecksContext,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    person = await staff.require(pool, person, Action.VIEW_BACKUPS, chat_id=message.chat.id)
    text, markup = await _status_text(checks, clock, pool)
    await message.answer(text, reply_markup=markup)
    await staff.done(pool, person, "backups.view", chat_id=message.chat.id)


@router.callback_query(Press(BackupAction))
async def on_backup_button(
    query: CallbackQuery,
    person: Person | None,
    checks: ChecksContext,
    clock: Clock,
    pool: asyncpg.Pool,
) -> None:
    chat_id = chat_of(query)
    person = await staff.require(pool, person, Action.VIEW_BACKUPS, chat_id=chat_id)
    text, markup = await _status_text(checks, clock, pool)
    await redraw(query, text, markup)
    await staff.done(pool, person, "backups.view", chat_id=chat_id)
