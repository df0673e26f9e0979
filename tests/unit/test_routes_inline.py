"""Every filter of the built routers is awaited in place: none goes through aiogram's thread
hop for synchronous callables (handlers/routes.py says why)."""

from __future__ import annotations

import datetime

from aiogram import F
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message, User

import handlers
from handlers.routes import Inline, Routes


class Form(StatesGroup):
    text = State()


def private_message(text: str = "halo") -> Message:
    return Message(
        message_id=1,
        date=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        chat=Chat(id=5, type="private"),
        from_user=User(id=5, is_bot=False, first_name="Budi"),
        text=text,
    )


def test_no_filter_or_handler_of_the_bot_runs_in_a_thread() -> None:
    checked = 0
    for router in handlers.routers():
        for name, observer in router.observers.items():
            for check in observer._handler.filters or []:
                assert check.awaitable, (router.name, name, check.callback)
                checked += 1
            for handler in observer.handlers:
                assert handler.awaitable, (router.name, name, handler.callback)
                for check in handler.filters or []:
                    assert check.awaitable, (router.name, name, handler.callback, check.callback)
                    checked += 1
    assert checked > 50


async def test_an_inline_magic_filter_and_state_answer_as_aiogram_would() -> None:
    private = Inline(F.chat.type == "private")
    assert await private(private_message()) is True
    assert not await Inline(F.chat.type == "group")(private_message())
    state = Inline(Form.text)
    assert await state(private_message(), raw_state=Form.text.state, unrelated=1)
    assert not await state(private_message(), raw_state=None)


def test_routes_leave_async_filters_as_they_are() -> None:
    async def check(message: Message) -> bool:
        return True

    routes = Routes("t")

    @routes.message(check, F.text)
    async def handler(message: Message) -> None: ...

    filters = routes.steps[0].args[1:]
    assert filters[0] is check
    assert isinstance(filters[1], Inline)
