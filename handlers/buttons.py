"""First stop for every button press: callback data carrying a number no id can have.

Every id a button carries (ticket, incident, alert group, message) is a PostgreSQL `bigint`.
Forged data such as `tk:73786976294838206464:res` (2^66) parses fine with the features'
`CallbackData` factories (pydantic ints are unbounded) and only fails when PostgreSQL refuses
the query parameter, as a traceback and "something went wrong". This router runs before the
features' routers and answers such a press as the stale button it is, in one place for every
button family, present and future.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery
from pydantic import TypeAdapter, ValidationError

from handlers.fallback import stale_button
from handlers.routes import Routes

router = Routes(__name__)

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
SEPARATOR = ":"  # aiogram CallbackData's default, used by every factory
_INT = TypeAdapter(int)  # parses a part exactly as a factory's `int` field would


def has_impossible_id(data: str | None) -> bool:
    """True when a part of the data reads as an integer outside PostgreSQL's bigint."""
    for part in (data or "").split(SEPARATOR):
        try:
            value = _INT.validate_python(part)
        except ValidationError:
            continue
        if not BIGINT_MIN <= value <= BIGINT_MAX:
            return True
    return False


@router.callback_query(lambda query: has_impossible_id(query.data))
async def impossible_id(query: CallbackQuery) -> None:
    await stale_button(query)
