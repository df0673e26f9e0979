"""Email (aiosmtpd), Slack and SMS (small aiohttp servers): delivered when configured; a failing
or hanging channel never blocks the Telegram message."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiohttp import web
from aiosmtpd.controller import Controller

from services.alerts import pipeline
from services.alerts.config import AlertsRules
from services.clock import FrozenClock
from tests.integration.alerts.conftest import AUDIENCE, cpu_only, outbox_rows, sample
from tests.net import free_port, start


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


async def hooks(status: int, delay: float = 0.0) -> tuple[web.AppRunner, str, list[Any]]:
    got: list[Any] = []

    async def handle(request: web.Request) -> web.Response:
        got.append((request.path, await request.json()))
        await asyncio.sleep(delay)
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/{name}", handle)
    runner, url = await start(app)
    return runner, url, got


def with_channels(slack: str, sms: str, smtp_port: int) -> AlertsRules:
    config = cpu_only()
    config.rules[0].channels.extend(["email", "sms"])
    return AlertsRules.model_validate(
        {
            **config.model_dump(by_alias=True),
            "channels": {
                "email": {
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "recipients": ["ops@qc.id"],
                    "timeout_s": 2,
                },
                "slack": {"webhook_url": slack, "timeout_s": 0.5},
                "sms": {"url": sms, "recipients": ["+62811"], "timeout_s": 0.5},
            },
        }
    )


async def test_secondary_channels_get_the_alert_and_a_failing_one_blocks_nothing(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    ok_runner, ok_url, ok_got = await hooks(200)
    bad_runner, bad_url, _ = await hooks(500, delay=2.0)  # answers 500, and too late
    try:
        config = with_channels(f"{bad_url}/slack", f"{ok_url}/sms", smtp.port)
        for _ in range(6):
            await sample(pool, clock.now(), 95)
            await pipeline.tick(pool, config, clock, AUDIENCE)
            clock.advance(minutes=1)
        clock.advance(seconds=30)
        report = await pipeline.tick(pool, config, clock, AUDIENCE)
    finally:
        smtp.stop()
        await ok_runner.cleanup()
        await bad_runner.cleanup()
    assert len(await outbox_rows(pool)) == 1  # Telegram first, whatever the others do
    outcome = {r.channel: r.ok for r in report.flush.secondary}
    assert outcome == {"email": True, "slack": False, "sms": True}
    assert b"Firing: CpuHigh" in inbox.messages[0]
    assert ok_got[0][0] == "/sms" and ok_got[0][1]["to"] == ["+62811"]
    assert "Firing: CpuHigh" in ok_got[0][1]["text"]
