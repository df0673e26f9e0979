"""One language per chat (issue 13 item 10): an alert group's message is rendered for each chat
it goes to in that chat's language, the admin chat's (DEFAULT_LOCALE until an admin sets one)
and a rule's own Telegram channel's, and its resolved edit too."""

from __future__ import annotations

import asyncpg

from services import chats
from services.alerts import pipeline
from services.alerts.outbound import Audience
from services.clock import FrozenClock
from tests.integration.alerts.conftest import (
    ADMIN_CHAT,
    SECURITY_CHAT,
    TZ,
    cpu_only,
    outbox_rows,
    sample,
)

AUDIENCE_ID = Audience(ADMIN_CHAT, "id", TZ)  # DEFAULT_LOCALE=id


async def test_each_chat_reads_the_alert_in_its_own_language(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await chats.set_chat_language(pool, SECURITY_CHAT, "en", by=None)
    config = cpu_only()
    config.rules[0].channels.append("security_team")
    for _ in range(6):
        await sample(pool, clock.now(), 93)
        await pipeline.tick(pool, config, clock, AUDIENCE_ID)
        clock.advance(minutes=1)
    clock.advance(seconds=30)
    await pipeline.tick(pool, config, clock, AUDIENCE_ID)

    [admin] = await outbox_rows(pool, ADMIN_CHAT)
    [security] = await outbox_rows(pool, SECURITY_CHAT)
    assert "Pemakaian CPU di atas 80 %" in admin["payload"]["text"]
    assert "(ambang &gt; 80%)" in admin["payload"]["text"]
    assert "CPU usage above 80 %" in security["payload"]["text"]
    assert "(threshold &gt; 80%)" in security["payload"]["text"]

    await chats.set_chat_language(pool, ADMIN_CHAT, "en", by=None)  # an admin changes it
    for _ in range(2):
        await sample(pool, clock.now(), 10)
        await pipeline.tick(pool, config, clock, AUDIENCE_ID)
        clock.advance(minutes=6)
    edits = [r for r in await outbox_rows(pool, ADMIN_CHAT) if r["kind"] == "edit"]
    assert edits and "Resolved: CpuHigh" in edits[-1]["payload"]["text"]
    assert "resolved at" in edits[-1]["payload"]["text"]
