"""Local network helpers the tests share: a free TCP port, and an aiohttp app served on one."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def free_port() -> int:
    """A port nobody listens on right now (the OS picked it; a server started soon gets it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    """The app served on a free local port: its runner (to clean up) and its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """`async with serve(app) as url`: the app's base URL while the block runs."""
    runner, url = await start(app)
    try:
        yield url
    finally:
        await runner.cleanup()


@dataclass
class JsonHook:
    """A local stand-in for a webhook (an SMS provider, say): `got` is the JSON of every POST
    it was sent, in order; it answers `status` (change it to make the next calls fail)."""

    url: str = ""
    status: int = 200
    got: list[Any] = field(default_factory=list)


@asynccontextmanager
async def json_hook(path: str, status: int = 200) -> AsyncIterator[JsonHook]:
    hook = JsonHook(status=status)

    async def handle(request: web.Request) -> web.Response:
        hook.got.append(await request.json())
        return web.Response(status=hook.status)

    app = web.Application()
    app.router.add_post(path, handle)
    async with serve(app) as url:
        hook.url = url + path
        yield hook
