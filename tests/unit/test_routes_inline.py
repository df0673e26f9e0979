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


def _wants(check: object) -> str | None:
    """What a filter asks for that a customer's free text in private never has."""
    from aiogram.filters import Command, StateFilter

    from handlers.rooms import InRoom
    from handlers.tickets_staff import InSupportChat

    if isinstance(check, Inline):
        check = check.check.callback
    if isinstance(check, Command):
        return "a command"
    if isinstance(check, StateFilter) or isinstance(getattr(check, "__self__", check), State):
        return "a conversation step"
    if isinstance(check, (InRoom, InSupportChat)):
        return "a group"
    return None


def test_every_message_handler_behind_not_free_text_wants_a_command_a_step_or_a_group() -> None:
    """handlers.tree() puts these routers behind `not_free_text`: a handler there that took a
    customer's free text in private would never see it."""
    from handlers import _commands_and_steps

    for router in _commands_and_steps():
        root = [_wants(c.callback) for c in router.message._handler.filters or []]
        for handler in router.message.handlers:
            wants = [*root, *(_wants(c.callback) for c in handler.filters or [])]
            assert any(wants), (router.name, handler.callback.__name__)


async def test_not_free_text() -> None:
    from handlers import not_free_text

    assert not await not_free_text(private_message("pembayaran gagal"), raw_state=None)
    assert await not_free_text(private_message("/start"), raw_state=None)
    assert await not_free_text(private_message("QC-000123"), raw_state="NewTicket:reference")
    in_group = private_message("halo").model_copy(update={"chat": Chat(id=-100, type="group")})
    assert await not_free_text(in_group, raw_state=None)


def test_the_tree_holds_every_router_in_the_same_order() -> None:
    def walk(routers: list) -> list[str]:
        names = []
        for router in routers:
            names += [router.name] if not router.sub_routers else walk(router.sub_routers)
        return names

    assert walk(handlers.tree()) == [r.name for r in handlers.routers()]
