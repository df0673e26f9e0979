"""Last stop: a button whose data nobody understands (stale or forged) still gets an answer."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.routes import Routes

router = Routes(__name__)


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is no longer valid. Please open the latest message."), show_alert=True
    )
