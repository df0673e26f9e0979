"""`Routes`: a feature's handlers, declared with aiogram's decorators at import, and built into
a new `Router` for each Dispatcher by `build()`.

aiogram's own idiom is one module-level Router, but a Router belongs to one parent for life:
a second Dispatcher in the same process (a restart in place, every end-to-end test) could
only take it over by resetting a private attribute. Recording the registrations and building
the Router on demand keeps the decorator style and gives every Dispatcher routers of its own.

Every filter is awaited in place (`Inline`). aiogram runs a synchronous filter, which every
magic filter (`F.chat.type == "private"`) and every FSM `State` is, in a worker thread
(`asyncio.to_thread`); a customer's message passes about ten of them on its way to the relay,
and the hops cost more than the checks: thread start-up, the GIL handed back and forth, and a
wake-up of the event loop each (py-spy on bench/support_throughput.py: ~15 % of the bot's
CPU). Our filters are attribute comparisons that never block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter

Handler = TypeVar("Handler", bound=Callable[..., Any])


class Inline(Filter):
    """A synchronous filter awaited in place of aiogram's thread hop. aiogram's `FilterObject`
    still reads the check (a magic filter becomes its `resolve`) and its parameters."""

    def __init__(self, check: Any) -> None:
        self.check = FilterObject(check)

    async def __call__(self, event: Any, **data: Any) -> Any:
        check = self.check
        kwargs = data if check.varkw else {k: data[k] for k in check.params if k in data}
        return check.callback(event, **kwargs)

    def __str__(self) -> str:
        return f"Inline({self.check.magic or self.check.callback!r})"


def inline(check: Any) -> Any:
    """`check` as aiogram would await it: coroutines and `Filter`s as they are, the rest inline."""
    if isinstance(check, Filter) or FilterObject(check).awaitable:
        return check
    return Inline(check)


@dataclass
class _Step:
    observer: str
    what: str  # "register" | "filter" | "middleware" | "outer_middleware"
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


class _Observer:
    def __init__(self, routes: Routes, name: str) -> None:
        self._routes, self._name = routes, name

    def __call__(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            checks = tuple(inline(f) for f in filters)
            self._routes.steps.append(_Step(self._name, "register", (handler, *checks), kwargs))
            return handler

        return register

    def filter(self, *filters: Any) -> None:
        self._routes.steps.append(_Step(self._name, "filter", tuple(inline(f) for f in filters)))

    def middleware(self, middleware: Any) -> None:
        self._routes.steps.append(_Step(self._name, "middleware", (middleware,)))

    def outer_middleware(self, middleware: Any) -> None:
        self._routes.steps.append(_Step(self._name, "outer_middleware", (middleware,)))


class Routes:
    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[_Step] = []
        self.message = _Observer(self, "message")
        self.edited_message = _Observer(self, "edited_message")
        self.callback_query = _Observer(self, "callback_query")
        self.message_reaction = _Observer(self, "message_reaction")
        self.error = _Observer(self, "error")

    def build(self) -> Router:
        """A new Router with every registration, in the order they were declared."""
        router = Router(name=self.name)
        for step in self.steps:
            observer = getattr(router, step.observer)
            getattr(observer, step.what)(*step.args, **step.kwargs)
        return router
