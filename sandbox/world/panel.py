"""The world panel's HTTP side, mounted on the emulator app next to the web chat page.

- `GET  /world/info`   the cast, the chats, the settings the sandbox started with
- `GET  /world/state`  the demo QuickCart now (gateway, database, disk, backups, logs, clock,
  with the time zone the bot shows times in)
- `POST /world/action` `{"action": "gateway_fail", "value": ...}`; tells the page by SSE.
  `payday_outage` (value: how many customers, 200 by default) breaks the gateway and makes
  that many demo customers write about failed payments within a minute (sandbox/world/payday).
  `complaints` and `customers_block` send demo customers to the bot in the emulator
  (sandbox/world/customers.py): the two CRITICAL_METRICS of the bot's own records move
  through the bot's own doors, never by writing its tables
- `GET  /world/files/{file_id}` a photo or document of a chat, for the page (no token)
- `POST /world/mail` `{"from", "name"?, "subject", "text", "in_reply_to"?}`: a customer's mail
  to the support address (the sandbox's mail stand-in, sandbox/mail); `/world/state` shows the
  mailbox and what the bot mailed back under "mail"
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.mail import MailError, MailStandIn
from sandbox.telegram.botapi import RUNTIME
from sandbox.world import cast, customers
from sandbox.world.clock import shown_in
from sandbox.world.payday import PaydayCrowd
from sandbox.world.world import ActionError, DemoWorld

WORLD = web.AppKey("demo_world", DemoWorld)
MAIL = web.AppKey("sandbox_mail", MailStandIn)
PAYDAY = web.AppKey("payday_crowd", PaydayCrowd)
INFO = web.AppKey("sandbox_info", dict)


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


# Panel buttons played by demo customers in the emulator: (how many customers, block the bot)
CUSTOMER_ACTIONS = {
    "complaints": (customers.COMPLAINERS, False),
    "customers_block": (customers.BLOCKERS, True),
}


async def view(app: web.Application) -> dict[str, Any]:
    """The world's view, its clock told in the bot's time zone as well."""
    world = app[WORLD]
    data = await world.view()
    data["clock"].update(shown_in(world.clock.now(), world.config.timezone))
    data["demo_customers"] = customers.view(app[RUNTIME])
    data["mail"] = app[MAIL].store.view() if MAIL in app else None
    if PAYDAY in app:
        data["payday"] = app[PAYDAY].view()
    return data


Handler = Callable[[web.Request], Awaitable[web.Response]]


def needs(key: web.AppKey[Any], what: str) -> Callable[[Handler], Handler]:
    """The route answers 404 ("no <what> in this run") when the sandbox started without it."""

    def guard(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.Response:
            if key not in request.app:
                return web.json_response({"error": f"no {what} in this run"}, status=404)
            return await handler(request)

        return guarded

    return guard


@needs(WORLD, "demo world")
async def state(request: web.Request) -> web.Response:
    return web.json_response(await view(request.app))


@needs(WORLD, "demo world")
async def action(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        name = str(body["action"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": 'send {"action": "..."}'}, status=400)
    world = request.app[WORLD]
    try:
        if name in CUSTOMER_ACTIONS:
            count, block = CUSTOMER_ACTIONS[name]
            await customers.wave(request.app[RUNTIME], count, block=block)
            world.notify("world_changed", {"action": name})
        elif name == "payday_outage" and PAYDAY in request.app:
            count = int(body.get("value") or 200)
            if not 1 <= count <= 5000:
                raise ActionError("a payday crowd is 1 to 5000 customers")
            await world.act("gateway_fail")
            request.app[PAYDAY].start(count)
        else:
            await world.act(name, body.get("value"))
    except (ActionError, customers.CustomerError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(await view(request.app))


@needs(MAIL, "sandbox mail")
async def write_mail(request: web.Request) -> web.Response:
    """The panel's form: write to the support address as a customer."""
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError
        request.app[MAIL].store.customer_writes(
            sender=str(body.get("from") or ""), name=str(body.get("name") or ""),
            subject=str(body.get("subject") or ""), text=str(body.get("text") or ""),
            in_reply_to=str(body.get("in_reply_to") or ""),
        )  # fmt: skip
    except ValueError as exc:  # MailError too: a sentence for the page
        message = str(exc) if isinstance(exc, MailError) else 'send {"from", "subject", "text"}'
        return web.json_response({"error": message}, status=400)
    if WORLD not in request.app:
        return web.json_response({"mail": request.app[MAIL].store.view()})
    return web.json_response(await view(request.app))


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


def mount(
    app: web.Application, world: DemoWorld | None, settings: dict[str, str],
    *, mail: MailStandIn | None = None,
) -> None:  # fmt: skip
    """Add the panel routes to the emulator app (before it starts)."""
    if world is not None:
        app[WORLD] = world
        world.notify = app[RUNTIME].bus.publish
        app[PAYDAY] = PaydayCrowd(app[RUNTIME])
    if mail is not None:
        app[MAIL] = mail
        bus = app[RUNTIME].bus
        mail.store.notify = lambda kind, payload: bus.publish("world_changed", {"mail": kind})
    app[INFO] = settings
    app.router.add_get("/world/info", info)
    app.router.add_get("/world/state", state)
    app.router.add_post("/world/action", action)
    app.router.add_get("/world/files/{file_id}", file)
    app.router.add_post("/world/mail", write_mail)
