"""The storm message's buttons (services/alerts/storm_actions.py): a group's details, Acknowledge
all, Back. Parse, call the service, answer the press (a refusal is audited by the service and
answered by handlers.refusals)."""

from __future__ import annotations

import asyncpg
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.alerts import answers_late_presses
from handlers.buttons import Press
from handlers.routes import Routes
from services.alerts import storm_actions
from services.alerts.outbound import Audience
from services.alerts.render_storm import StormAction
from services.clock import Clock
from services.users import Person

router = Routes(__name__)
answers_late_presses(router)


@router.callback_query(Press(StormAction))
async def on_storm_button(
    query: CallbackQuery,
    callback_data: StormAction,
    person: Person | None,
    pool: asyncpg.Pool,
    clock: Clock,
    audience: Audience,
) -> None:
    chat_id = query.message.chat.id if query.message is not None else None
    now, admin_chat = clock.now(), audience
    if callback_data.a == "det":
        shown = await storm_actions.details(
            pool,
            person,
            callback_data.s,
            callback_data.g,
            chat_id=chat_id,
            now=now,
            audience=admin_chat,
        )
        text = (
            _("Sent to you in a private chat.")
            if shown.where == "private"
            else _("Shown here; the storm comes back with ◀.")
        )
    elif callback_data.a == "ack":
        groups = await storm_actions.acknowledge_all(
            pool, person, callback_data.s, chat_id=chat_id, now=now, audience=admin_chat
        )
        count = len(groups)
        text = ngettext(
            "{count} group acknowledged.", "{count} groups acknowledged.", count
        ).format(count=count)
    else:
        await storm_actions.back(
            pool, person, callback_data.s, chat_id=chat_id, now=now, audience=admin_chat
        )
        text = ""
    await query.answer(text)
