"""Waiting in a test for a state a server or a worker reaches on its own: poll a check (a plain
or an async function) until it says yes, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any


async def _poll(check: Callable[[], Any], timeout: float, every: float) -> Any:
    """The check's first true value within `timeout` seconds, or its last (false) one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value or loop.time() > deadline:
            return value
        await asyncio.sleep(every)


async def eventually(
    what: str, check: Callable[[], Any], timeout: float = 10.0, *, every: float = 0.05
) -> Any:
    """The check's first true value; an AssertionError naming `what` when `timeout` seconds
    pass first."""
    value = await _poll(check, timeout, every)
    if not value:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return value


async def at_most(timeout: float, check: Callable[[], Any], *, every: float = 0.05) -> None:
    """Wait until the check says yes or `timeout` seconds pass, whichever comes first, and say
    nothing: the test's own assertions after it tell what went wrong."""
    await _poll(check, timeout, every)
