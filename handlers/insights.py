"""`/insights [30d]`: MTTA and MTTR per severity and level, incidents per week, pages per
person, ticket SLA per priority and channel, CSAT, follow-ups, over the last N days."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.refusals import Usage
from handlers.routes import Routes
from services import staff
from services.clock import Clock
from services.insights import figures, render
from services.rooms.config import RoomsContext
from services.staff import Action
from services.users import Person

router = Routes(__name__)

PERIOD = re.compile(r"^\s*(\d{1,3})\s*d?\s*$", re.IGNORECASE)
DEFAULT_DAYS = 30
MAX_DAYS = 366


def parse_days(args: str | None) -> int | None:
    """'' -> 30; '30d', '7', '90D' -> days; anything else (or over a year) -> None."""
    if not args or not args.strip():
        return DEFAULT_DAYS
    match = PERIOD.match(args)
    if match is None:
        return None
    days = int(match[1])
    return days if 1 <= days <= MAX_DAYS else None


@router.message(Command("insights"))
async def cmd_insights(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool,
    clock: Clock, rooms: RoomsContext,
) -> None:  # fmt: skip
    await staff.require(
        pool, person, Action.VIEW_INSIGHTS, target=command.args, chat_id=message.chat.id
    )
    days = parse_days(command.args)
    if days is None:
        raise Usage(_("Usage: /insights [30d] (1 to 366 days)"))
    end = clock.now()
    found = await figures.collect(pool, end - timedelta(days=days), end, rooms.escalation.tz_name)
    await message.answer(render.message(found))
