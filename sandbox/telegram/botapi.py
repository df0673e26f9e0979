"""The Bot API over HTTP: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

Parses the request the ways Telegram accepts (query string, JSON, url-encoded form,
multipart with files), applies injected faults, runs the method and answers in the
``{"ok": ..., "result" | "description": ...}`` envelope.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import BodyPartReader, web

from . import chats, messages, updates
from .messages import Handler
from .params import ApiError, Params, Upload
from .runtime import Runtime

log = logging.getLogger(__name__)

METHODS: dict[str, Handler] = {**messages.METHODS, **chats.METHODS, **updates.METHODS}
RUNTIME = web.AppKey("telegram_runtime", Runtime)


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return Params(values)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON request") from None
        if isinstance(body, dict):
            values.update(body)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read(decode=False)
                uploads[part.name] = Upload(
                    bytes(data), part.filename, part.headers.get("Content-Type")
                )
            else:
                values[part.name] = await part.text()
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
            else:
                values[key] = value
    return Params(values, uploads)


def _answer(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def call_method(rt: Runtime, method: str, params: Params) -> Any:
    handler = METHODS.get(method.lower())
    if handler is None:
        raise ApiError(404, "Not Found")
    rt.stats.calls[method.lower()] += 1
    return await handler(rt, params)


async def handle_method(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    token = request.match_info["token"]
    method = request.match_info["method"]
    if token not in rt.config.tokens:
        return _answer(401, ApiError(401, "Unauthorized").body())
    fault = await rt.faults.before_call(method)
    if fault is not None:
        status, description = fault
        return _answer(status, {"ok": False, "error_code": status, "description": description})
    try:
        params = await read_params(request)
        result = await call_method(rt, method, params)
    except ApiError as error:
        rt.stats.errors[f"{method.lower()}: {error.body()['description']}"] += 1
        return _answer(error.status, error.body())
    return _answer(200, {"ok": True, "result": result})


async def handle_file(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    if request.match_info["token"] not in rt.config.tokens:
        return _answer(401, ApiError(401, "Unauthorized").body())
    stored = rt.world.file_by_path(request.match_info["path"])
    if stored is None:
        return _answer(404, ApiError(404, "Not Found").body())
    content_type = stored.mime_type or (
        "image/jpeg" if stored.kind == "photo" else "application/octet-stream"
    )
    return web.Response(body=stored.data, content_type=content_type)


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
