"""Handlers receive built feature objects (bot/features.py), never the raw configuration.

Every callback and filter registered on every router is read for its parameter names: none may
take `settings` or `rules` (which would let it rebuild a feature's config on every update), and
every name it asks for must be one the assembly or the middlewares provide, so a typo fails
here instead of as a missing argument on the first real update."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import handlers
from bot.features import Features
from handlers import asked

FORBIDDEN = {"settings", "rules"}
# what aiogram and our middlewares put into every update's data besides the assembly's objects
PROVIDED = {
    "pool", "redis", "clock", "person", "state", "raw_state", "command", "callback_data",
    "bot", "event_from_user", "event_chat", "event_update", "event_context", "event_router",
    "handler", "fsm_storage", "i18n", "i18n_middleware", "rule", "kinds", "exception",
    "event_thread_id", "event_business_connection_id",
    "room_ticket",  # handlers/rooms.py InRoom: the incident whose room the message is in
}  # fmt: skip


def callables() -> Iterator[tuple[str, Any]]:
    for router in handlers.routers():
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                yield f"{router.name}.{name}:{handler.callback.__name__}", handler.callback
                for flt in handler.filters or ():
                    yield f"{router.name}.{name} filter", flt.callback
            for flt in observer._handler.filters or ():
                yield f"{router.name}.{name} router filter", flt.callback


def keyword_parameters(fn: Any) -> set[str]:
    target = fn.__call__ if not inspect.isroutine(fn) and callable(fn) else fn
    names = set()
    for index, param in enumerate(inspect.signature(target).parameters.values()):
        if index == 0 or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue  # the event itself, and **kwargs
        names.add(param.name)
    return names


def test_there_are_handlers_to_check() -> None:
    assert sum(1 for _ in callables()) > 60


def test_no_handler_takes_settings_or_rules() -> None:
    offenders = {
        where: sorted(keyword_parameters(fn) & FORBIDDEN)
        for where, fn in callables()
        if keyword_parameters(fn) & FORBIDDEN
    }
    assert not offenders, offenders


def test_every_parameter_is_provided() -> None:
    workflow = set(Features.HANDED_TO_HANDLERS)
    assert workflow <= set(Features.__dataclass_fields__)
    unknown = {
        where: sorted(keyword_parameters(fn) - PROVIDED - workflow)
        for where, fn in callables()
        if keyword_parameters(fn) - PROVIDED - workflow
    }
    assert not unknown, unknown


def test_every_context_a_registrar_reads_is_handed_to_handlers() -> None:
    """handlers/asked.py's `command` and `press` read the feature's object from the update's
    data by name (their wrappers take `**data`): each name must be one the assembly hands out,
    and must not be the raw configuration."""
    handlers.routers()  # imports every handler module, so every registration has run
    assert asked.CONTEXTS, "no handler is registered through handlers.asked"
    assert set(Features.HANDED_TO_HANDLERS) >= asked.CONTEXTS, asked.CONTEXTS
    assert not asked.CONTEXTS & FORBIDDEN
