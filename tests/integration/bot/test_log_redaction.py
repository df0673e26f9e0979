"""The bot token (inside every Bot API URL) and configured secrets never reach the log."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from loguru import logger

from bot.logs import setup_logging

TOKEN = "123456789:AAH-secret_token-value-XYZ"
PAKASIR_KEY = "pk_live_5f3c9a"


async def _failing_bot_api(port_holder: list[int]) -> web.AppRunner:
    async def refuse(request: web.Request) -> web.Response:
        # A real Bot API server mentions nothing secret; a broken proxy may echo the URL.
        return web.Response(status=502, text=f"upstream failed for {request.path}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_holder.append(runner.addresses[0][1])
    return runner


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_failing_bot_api_call_logs_no_token(fmt: str) -> None:
    out = io.StringIO()
    setup_logging([TOKEN, PAKASIR_KEY], fmt=fmt, stream=out)
    port: list[int] = []
    runner = await _failing_bot_api(port)
    base = f"http://127.0.0.1:{port[0]}"
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    try:
        with pytest.raises(Exception) as caught:
            await bot.get_me()
        logger.opt(exception=caught.value).error("getMe failed at {}/bot{}/getMe", base, TOKEN)
        logger.error("exception text: {}", caught.value)
        try:
            raise RuntimeError(f"GET {base}/bot{quote(TOKEN, safe='')}/getMe refused")
        except RuntimeError:
            logger.exception("url-encoded token in a traceback")
        logger.warning("pakasir probe ?order_id=1&api_key={}", PAKASIR_KEY)
    finally:
        await bot.session.close()
        await runner.cleanup()
        setup_logging([], stream=io.StringIO())

    written = out.getvalue()
    assert "getMe failed" in written and "pakasir probe" in written
    assert "***" in written
    for secret in (TOKEN, quote(TOKEN, safe=""), TOKEN.split(":")[1], PAKASIR_KEY):
        assert secret not in written
    if fmt == "json":
        lines = [json.loads(line) for line in written.splitlines() if line.strip()]
        assert all("record" in line for line in lines)
