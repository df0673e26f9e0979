"""`quickcart-ops run` settles the heap once the bot is up (bot/heap.py): what exists then is
kept out of the garbage collector's full passes; what is made afterwards is collected."""

from __future__ import annotations

import gc
import weakref

from aiohttp import web

from bot.heap import settle


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


async def test_settling_freezes_what_exists_and_later_garbage_is_still_collected() -> None:
    try:
        await settle(web.Application())
        assert gc.get_freeze_count() > 0
        later = Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
