"""Build and run the emulator: ``create_app`` for aiohttp, ``TelegramEmulator`` for tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from . import botapi, control, control_people
from .config import EmulatorConfig, FaultConfig, LimitConfig
from .params import Params
from .runtime import Runtime
from .state import World
from .updates import WebhookDeliverer

__all__ = ["EmulatorConfig", "FaultConfig", "LimitConfig", "TelegramEmulator", "create_app"]


def _add_control_routes(app: web.Application) -> None:
    """The control API (control.py, control_people.py): how tests and the web page play."""
    people, knobs = control_people, control
    routes: list[tuple[str, str, control.Route]] = [
        ("POST", "/control/users", people.upsert_user),
        ("GET", "/control/users", people.list_users),
        ("POST", "/control/users/{user_id}/block", people.block),
        ("POST", "/control/users/{user_id}/unblock", people.unblock),
        ("POST", "/control/chats", people.create_chat),
        ("GET", "/control/chats", people.list_chats),
        ("GET", "/control/chats/{chat_id}", people.get_chat),
        ("POST", "/control/chats/{chat_id}/migrate", people.migrate),
        ("GET", "/control/chats/{chat_id}/messages", people.messages),
        ("GET", "/control/chats/{chat_id}/topics", people.topics),
        ("DELETE", "/control/chats/{chat_id}/topics/{thread_id}", people.remove_topic),
        ("POST", "/control/chats/{chat_id}/topics/{thread_id}/delete", people.remove_topic),
        ("POST", "/control/send", people.send),
        ("POST", "/control/press", people.press),
        ("POST", "/control/react", people.react),
        ("GET", "/control/callbacks/{query_id}", people.callback),
        ("POST", "/control/inject_update", people.inject_update),
        ("GET", "/control/updates", people.pending_updates),
        ("GET", "/control/commands", knobs.commands),
        ("GET", "/control/stats", knobs.stats),
        ("POST", "/control/limits", knobs.set_limits),
        ("POST", "/control/faults", knobs.set_faults),
        ("POST", "/control/reset", knobs.reset),
        ("GET", "/control/events", knobs.events),
    ]
    for method, path, route in routes:
        app.router.add_route(method, path, route if route is knobs.events else knobs.guarded(route))


def create_app(config: EmulatorConfig, static_dir: Path | None = None) -> web.Application:
    """The emulator; with ``static_dir`` it also serves the web chat page at ``/``."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    runtime = Runtime(config)
    app[botapi.RUNTIME] = runtime
    botapi.add_routes(app)
    _add_control_routes(app)
    if static_dir is not None:
        _serve_page(app, static_dir)
    app.cleanup_ctx.append(_webhook_delivery)
    app.on_shutdown.append(_close_event_streams)
    return app


def _serve_page(app: web.Application, static_dir: Path) -> None:
    index = static_dir / "index.html"

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", page)
    app.router.add_static("/web/", static_dir, append_version=False)


async def _webhook_delivery(app: web.Application) -> AsyncIterator[None]:
    runtime = app[botapi.RUNTIME]

    async def execute(method: str, params: dict[str, Any]) -> Any:
        return await botapi.call_method(runtime, method, Params(params))

    task = asyncio.create_task(WebhookDeliverer(runtime, execute).run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_event_streams(app: web.Application) -> None:
    """On shutdown: end the SSE streams and answer waiting long polls, so stopping does not
    wait out the shutdown timeout for requests that would otherwise hang on."""
    runtime = app[botapi.RUNTIME]
    runtime.bus.publish(control.SHUTDOWN, {})
    runtime.world.updates.closing = True
    runtime.world.updates.wake()


class TelegramEmulator:
    """The emulator on a real port: ``async with TelegramEmulator(config) as tg: tg.base_url``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.app = create_app(self.config)
        self._runner: web.AppRunner | None = None
        self.port = self.config.port

    @property
    def runtime(self) -> Runtime:
        return self.app[botapi.RUNTIME]

    @property
    def state(self) -> World:
        return self.runtime.world

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    async def start(self) -> TelegramEmulator:
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        for sock in sockets:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                self.port = sock.getsockname()[1]
                break
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> TelegramEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
