"""/health and `/health <name>` for staff, and the card's buttons (one probe in full, refresh)."""

from __future__ import annotations

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from handlers.buttons import Press, as_markup, chat_of, redraw
from handlers.routes import Routes
from services import staff
from services.checks import metrics
from services.checks.config import (
    CHECK_NAMES,
    ChecksContext,
    resolve_name,
)
from services.checks.probe import ProbeContext
from services.checks.render import (
    ALL,
    HealthDetail,
    Rendered,
    render_check_detail,
    render_health_card,
)
from services.checks.runner import run_checks
from services.clock import Clock
from services.staff import Action
from services.text import echo
from services.users import Person

router = Routes(__name__)


async def _render(
    name: str | None, checks: ChecksContext, clock: Clock, pool: asyncpg.Pool, redis: Redis
) -> Rendered:
    ctx = ProbeContext(checks.targets, checks.rules, clock, db=pool, redis=redis)
    report = await run_checks(ctx, [name] if name else None, trigger="health")
    metrics.export(report)
    timezone = checks.tz.key
    if name:
        return render_check_detail(report.results[0], timezone=timezone)
    return render_health_card(report, timezone=timezone)


@router.message(Command("health"))
async def cmd_health(
    message: Message,
    command: CommandObject,
    person: Person | None,
    checks: ChecksContext,
    clock: Clock,
    pool: asyncpg.Pool,
    redis: Redis,
) -> None:
    person = await staff.require(pool, person, Action.VIEW_HEALTH, chat_id=message.chat.id)
    name: str | None = None
    if command.args:
        name = resolve_name(command.args)
        if name is None:
            await message.answer(
                _("There is no check called {name}. Try one of: {names}.").format(
                    name=echo(command.args), names=", ".join(CHECK_NAMES)
                )
            )
            return
    rendered = await _render(name, checks, clock, pool, redis)
    await message.answer(rendered.text, reply_markup=as_markup(rendered.keyboard))
    await staff.done(pool, person, "health.view", target=name or ALL, chat_id=message.chat.id)


@router.callback_query(Press(HealthDetail))
async def on_health_button(
    query: CallbackQuery,
    callback_data: HealthDetail,
    person: Person | None,
    checks: ChecksContext,
    clock: Clock,
    pool: asyncpg.Pool,
    redis: Redis,
) -> None:
    chat_id = chat_of(query)
    person = await staff.require(pool, person, Action.VIEW_HEALTH, chat_id=chat_id)
    name = None if callback_data.name == ALL else resolve_name(callback_data.name)
    if callback_data.name != ALL and name is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    rendered = await _render(name, checks, clock, pool, redis)
    await redraw(query, rendered.text, as_markup(rendered.keyboard))
    await staff.done(pool, person, "health.view", target=callback_data.name, chat_id=chat_id)
