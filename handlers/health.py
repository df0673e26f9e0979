"""/health and `/health <name>` for staff, and the card's buttons (one probe in full, refresh)."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command, press
from handlers.buttons import as_markup, redraw
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
from services.staff import Action
from services.text import echo

router = Routes(__name__)


async def _render(name: str | None, asked: Asked[ChecksContext]) -> Rendered:
    checks = asked.ctx
    probes = ProbeContext(
        checks.targets, checks.rules, asked.clock, db=asked.pool, redis=asked.redis
    )
    report = await run_checks(probes, [name] if name else None, trigger="health")
    metrics.export(report)
    timezone = checks.tz.key
    if name:
        return render_check_detail(report.results[0], timezone=timezone)
    return render_health_card(report, timezone=timezone)


@command(router, "health", "checks")
async def cmd_health(message: Message, asked: Asked[ChecksContext]) -> None:
    name: str | None = None
    if asked.args:
        name = resolve_name(asked.args)
        if name is None:
            await message.answer(
                _("There is no check called {name}. Try one of: {names}.").format(
                    name=echo(asked.args), names=", ".join(CHECK_NAMES)
                )
            )
            return
    rendered = await _render(name, asked)
    await message.answer(rendered.text, reply_markup=as_markup(rendered.keyboard))
    await staff.done(
        asked.pool, asked.person, "health.view", target=name or ALL, chat_id=asked.chat_id
    )


@press(router, HealthDetail, "checks")
async def on_health_button(
    query: CallbackQuery, callback_data: HealthDetail, asked: Asked[ChecksContext]
) -> None:
    person = await staff.require(
        asked.pool, asked.person, Action.VIEW_HEALTH, chat_id=asked.chat_id
    )
    name = None if callback_data.name == ALL else resolve_name(callback_data.name)
    if callback_data.name != ALL and name is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    rendered = await _render(name, asked)
    await redraw(query, rendered.text, as_markup(rendered.keyboard))
    await staff.done(
        asked.pool, person, "health.view", target=callback_data.name, chat_id=asked.chat_id
    )
