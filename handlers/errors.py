"""One place for the unexpected: log it with the update id, tell the person a reference."""

from __future__ import annotations

import secrets

from aiogram.types import ErrorEvent
from loguru import logger

# The errors observer runs outside the update's middlewares (and their locale context), so
# the apology comes from the service catalogue in DEFAULT_LOCALE.
from handlers.routes import Routes
from services.i18n import gettext as _
from services.storage.outage import is_outage

router = Routes(__name__)


def not_an_outage(event: ErrorEvent) -> bool:
    """A store that does not answer is not the person's problem: the exception goes back to
    the inbox, which handles the update again once the store is back (no apology needed)."""
    return not is_outage(event.exception)


@router.error(not_an_outage)
async def on_error(event: ErrorEvent) -> bool:
    ref = secrets.token_hex(3)
    logger.opt(exception=event.exception).error(
        "update {} failed (ref {}): {}", event.update.update_id, ref, type(event.exception).__name__
    )
    text = _("Something went wrong on our side (ref {ref}). Please try again.").format(ref=ref)
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception as exc:  # the apology itself failed: the log line above has the reason
        logger.warning("could not tell the person about ref {}: {}", ref, exc)
    return True
