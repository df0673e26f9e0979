"""A feature's staff command or button, registered with what every such handler starts with
done once.

`command(routes, name, context)` registers `act(message, asked)` for the command `name`: the
wrapper takes what the dispatcher hands every handler (the person, the pool, the clock, Redis)
and the feature's own object by its name in the workflow data (`context`: "rooms", "mass",
"escalation_context", "desk_config"; bot/features.py), asks the permission table first
(`staff.COMMANDS[name]`, the first word as typed: `require_command`), and hands the handler one
`Asked`. `table=False` leaves the permission to the handler, where the action depends on what
the command is about (a ticket's own customer, handlers/tickets_staff.py). `press(routes,
family, context)` does the same for a button family (no table: a press's action is checked by
the handler or its service).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from magic_filter import MagicFilter
from redis.asyncio import Redis

from handlers.buttons import Press, chat_of
from handlers.refusals import require_command
from handlers.routes import Routes
from services import staff
from services.buttons import Button
from services.clock import Clock
from services.users import Person

C = TypeVar("C")

# Every `context` a handler was registered with (tests/unit/test_handler_parameters.py checks
# each is a name the assembly hands to handlers, as it checks every handler's parameters).
CONTEXTS: set[str] = set()


@dataclass(frozen=True)
class Asked(Generic[C]):
    """Who asks, in which chat, with which words; what the feature works with."""

    person: Person
    pool: asyncpg.Pool
    clock: Clock
    now: datetime  # when it was asked: clock.now() as the handler starts
    redis: Redis
    ctx: C
    chat_id: int | None  # None: a press on a message too old for Telegram to say
    command: CommandObject | None = None  # a button's press has none

    @property
    def name(self) -> str:
        """The command as typed (of several a handler answers)."""
        return self.command.command if self.command else ""

    @property
    def args(self) -> str:
        """What follows the command, as typed ("" for nothing)."""
        return (self.command.args if self.command else None) or ""


Act = Callable[[Message, Asked[C]], Awaitable[None]]
B = TypeVar("B", bound=Button)
PressAct = Callable[[CallbackQuery, B, Asked[C]], Awaitable[None]]


def command(
    routes: Routes, names: str | tuple[str, ...], context: str, *filters: Any, table: bool = True
) -> Callable[[Act[C]], Act[C]]:
    """Register `act` for the command (or commands) `names` and `filters` on `routes`."""

    CONTEXTS.add(context)

    def register(act: Act[C]) -> Act[C]:
        async def on_command(
            message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool,
            clock: Clock, redis: Redis, **data: Any,
        ) -> None:  # fmt: skip
            if table:
                action = staff.COMMANDS[command.command].action_for(command.args)
                await require_command(message, command, person, pool, action)
            now, chat_id = clock.now(), message.chat.id
            asked = Asked(person, pool, clock, now, redis, data[context], chat_id, command)
            await act(message, asked)

        on_command.__name__ = on_command.__qualname__ = act.__name__
        commands = (names,) if isinstance(names, str) else names
        routes.message(Command(*commands), *filters)(on_command)
        return act

    return register


def press(
    routes: Routes, family: type[B], context: str, rule: MagicFilter | None = None
) -> Callable[[PressAct[B, C]], PressAct[B, C]]:
    """Register `act(query, callback_data, asked)` for a press of the button family (narrowed by
    `rule`, as `Press`); the press's own action is the handler's (or its service's) to check."""

    CONTEXTS.add(context)

    def register(act: PressAct[B, C]) -> PressAct[B, C]:
        async def on_press(
            query: CallbackQuery, callback_data: B, person: Person, pool: asyncpg.Pool,
            clock: Clock, redis: Redis, **data: Any,
        ) -> None:  # fmt: skip
            asked = Asked(person, pool, clock, clock.now(), redis, data[context], chat_of(query))
            await act(query, callback_data, asked)

        on_press.__name__ = on_press.__qualname__ = act.__name__
        routes.callback_query(Press(family, rule))(on_press)
        return act

    return register
