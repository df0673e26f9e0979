"""The webhook's front door: who is calling, what can be stored, and a 5xx only when the
store is really down (Telegram retries 5xx forever, so a poison body must never get one)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from bot.intake import MAX_UPDATE_BYTES, WebhookIntake
from bot.keys import INBOX
from services.inbox.config import InboxConfig
from services.storage.db import create_pool
from tests.cast import BUDI
from tests.e2e.conftest import World
from tests.net import free_port

SECRET = "s" * 40


@pytest.fixture
async def webhook_world(world_unstarted: World) -> World:
    port = free_port()
    world_unstarted.settings = world_unstarted.settings.model_copy(
        update={
            "WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "WEBHOOK_SECRET": SECRET,
            "HTTP_PORT": port,
        }
    )
    await world_unstarted.start_bot(port=port)
    return world_unstarted


async def _post(world: World, body: bytes, secret: str | None = SECRET) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.http_base + "/telegram/webhook", data=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[" * 200_000 + b"]" * 200_000, 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"update_id": "x"}', 400, "not a Telegram update"),
        (b'{"update_id": 73786976294838206464}', 400, "out of range"),
        (b'{"update_id": -1}', 400, "out of range"),
    ],
)
async def test_what_can_never_be_stored_gets_a_4xx_with_the_reason(
    webhook_world: World, body: bytes, status: int, reason: str
) -> None:
    got, answer = await _post(webhook_world, body)
    assert (got, reason in answer["error"]) == (status, True)
    assert await webhook_world.pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_body_too_large_and_a_wrong_secret_are_refused(webhook_world: World) -> None:
    big = b'{"update_id": 1, "x": "' + b"a" * (MAX_UPDATE_BYTES + 10) + b'"}'
    assert (await _post(webhook_world, big))[0] == 413
    assert (await _post(webhook_world, b'{"update_id": 2}', secret="wrong"))[0] == 401
    assert (await _post(webhook_world, b'{"update_id": 3}', secret=None))[0] == 401
    assert await webhook_world.pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_nul_or_a_lone_surrogate_is_stored_cleaned_and_handled(
    webhook_world: World,
) -> None:
    body = (
        b'{"update_id": 900, "message": {"message_id": 1, "date": 0, '
        b'"chat": {"id": %d, "type": "private"}, '
        b'"from": {"id": %d, "is_bot": false, "first_name": "Bu\\u0000di"}, '
        b'"text": "/help \\u0000 \\ud800"}}' % (BUDI, BUDI)
    )
    # the update is posted past the emulator, which must still know Budi wrote to the bot
    await webhook_world.tg.create_user(BUDI, started=True)
    assert (await _post(webhook_world, body))[0] == 200
    reply = await webhook_world.reply_to(BUDI)
    assert reply["text"].startswith("Tulis kepada saya")  # /help was handled
    name = await webhook_world.pool.fetchval("SELECT first_name FROM users WHERE id = $1", BUDI)
    assert name == "Budi"


async def test_the_webhook_answers_5xx_while_postgresql_is_down(db_url: str) -> None:
    """Telegram keeps the update and sends it again: nothing is lost."""
    pool = await create_pool(db_url, max_size=1)
    await pool.close()  # every call now fails as an unreachable store does

    class Wakeless:
        def wake(self) -> None:
            raise AssertionError("nothing was stored")

    intake = WebhookIntake(pool, Wakeless(), InboxConfig(), SECRET)  # type: ignore[arg-type]
    request = make_mocked_request(
        "POST",
        "/telegram/webhook",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        payload=_Payload(b'{"update_id": 5}'),  # type: ignore[arg-type]
    )
    response = await intake.handle(request)
    assert response.status == 503


class _Payload:
    def __init__(self, body: bytes) -> None:
        self.body = body

    async def read(self, n: int = -1) -> bytes:
        return self.body


async def test_the_inbox_is_where_updates_are_handled_from(webhook_world: World) -> None:
    sent = await webhook_world.send(BUDI, "/help")
    await webhook_world.reply_to(BUDI, after=sent["message_id"])
    assert webhook_world.runner is not None
    assert webhook_world.runner.app[INBOX] is not None
    for _ in range(100):  # the row is marked done just after the handler's reply
        states = [r["state"] for r in await webhook_world.pool.fetch("SELECT state FROM inbox")]
        if states == ["done"]:
            break
        await asyncio.sleep(0.05)
    assert states == ["done"]
