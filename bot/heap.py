"""The process's heap, settled once the bot is up (`quickcart-ops run`).

Everything built at startup (modules, aiogram's routers, pydantic's validators, the assembled
features) lives as long as the process, yet every full garbage collection walked all of it
again: about a fifth of the process's CPU in the support bench, whose heap grows with the
emulator's messages. `gc.freeze()` moves what exists once the bot is up out of the
collector's sight; what is made afterwards is collected as before. Only for the process that
runs the bot: a test process builds many apps and would keep each one's cycles for good.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def settle(_app: web.Application) -> None:
    """An on_startup hook, appended last: collect once, then freeze what is left."""
    gc.collect()
    gc.freeze()
