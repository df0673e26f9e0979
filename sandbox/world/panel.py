"""The world panel's HTTP side, mounted on the emulator app next to the web chat page.

- `GET  /world/info`   the cast, the chats, the settings the sandbox started with
- `GET  /world/state`  the demo QuickCart now (gateway, database, disk, backups, logs, clock,
  with the time zone the bot shows times in)
- `POST /world/action` `{"action": "gateway_fail", "value": ...}`; tells the page by SSE;
  `payday_outage` (value: how many customers, 200 by default) breaks the gateway and makes
  that many demo customers write about failed payments within a minute (sandbox/world/payday)
- `GET  /world/files/{file_id}` a photo or document of a chat, for the page (no token)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.telegram.botapi import RUNTIME
from sandbox.world import cast
from sandbox.world.clock import shown_in
from sandbox.world.payday import PaydayCrowd
from sandbox.world.world import ActionError, DemoWorld

WORLD = web.AppKey("demo_world", DemoWorld)
INFO = web.AppKey("sandbox_info", dict)
PAYDAY = web.AppKey("payday_crowd", PaydayCrowd)


def cast_info() -> dict[str, Any]:
    return {
        "cast": [m.view() for m in cast.CAST],
        "admin_chat_id": cast.ADMIN_CHAT_ID,
        "support_chat_id": cast.SUPPORT_CHAT_ID,
    }


async def info(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    bot = runtime.world.bot
    data = {
        **cast_info(),
        "bot": {"id": bot.id, "first_name": bot.first_name, "username": bot.username},
        "settings": request.app[INFO],
        "world": WORLD in request.app,
    }
    return web.json_response(data)


async def view(world: DemoWorld, crowd: PaydayCrowd | None = None) -> dict[str, Any]:
    """The world's view, its clock told in the bot's time zone as well."""
    data = await world.view()
    data["clock"].update(shown_in(world.clock.now(), world.config.timezone))
    if crowd is not None:
        data["payday"] = crowd.view()
    return data


async def state(request: web.Request) -> web.Response:
    if WORLD not in request.app:
        return web.json_response({"error": "no demo world in this run"}, status=404)
    return web.json_response(await view(request.app[WORLD], request.app.get(PAYDAY)))


async def action(request: web.Request) -> web.Response:
    if WORLD not in request.app:
        return web.json_response({"error": "no demo world in this run"}, status=404)
    try:
        body = await request.json()
        name = str(body["action"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": 'send {"action": "..."}'}, status=400)
    world = request.app[WORLD]
    crowd = request.app.get(PAYDAY)
    try:
        if name == "payday_outage" and crowd is not None:
            count = int(body.get("value") or 200)
            if not 1 <= count <= 5000:
                raise ActionError("a payday crowd is 1 to 5000 customers")
            await world.act("gateway_fail")
            crowd.start(count)
        else:
            await world.act(name, body.get("value"))
    except (ActionError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(await view(world, crowd))


async def file(request: web.Request) -> web.StreamResponse:
    stored = request.app[RUNTIME].world.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "max-age=3600"}
    if stored.kind == "document":
        name = (stored.file_name or "document").replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type
        or ("image/png" if stored.kind == "photo" else "application/octet-stream"),
        headers=headers,
    )


def mount(app: web.Application, world: DemoWorld | None, settings: dict[str, str]) -> None:
    """Add the panel routes to the emulator app (before it starts)."""
    if world is not None:
        app[WORLD] = world
        world.notify = app[RUNTIME].bus.publish
        app[PAYDAY] = PaydayCrowd(app[RUNTIME])
    app[INFO] = settings
    app.router.add_get("/world/info", info)
    app.router.add_get("/world/state", state)
    app.router.add_post("/world/action", action)
    app.router.add_get("/world/files/{file_id}", file)
