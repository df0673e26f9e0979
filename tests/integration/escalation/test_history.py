"""Escalation history is kept (issue 13, item 4): a P0 climbs from level 1 to level 3. Sari's
page from level 1 still says what it said when it paged her, with "Moved on to level 3" added
below; Dewi's level-2 page likewise. The admin chat has one card, edited to level 3, and one
short new line per level change, replying to that card."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from services import users
from services.escalation.context import EscalationContext
from services.escalation.incidents import acknowledge
from services.escalation.render import when
from services.escalation.scan import scan_once
from tests.cast import SARI

from .conftest import ADMIN_CHAT, DEWI, TONO, payment_down


async def newest_text(db: asyncpg.Pool, row_id: int) -> dict[str, Any]:
    """What the message sent as outbox row `row_id` says after its latest edit."""
    row = await db.fetchrow(
        "SELECT payload FROM outbox WHERE (id = $1 AND kind = 'text') OR (ref_id = $1 AND"
        " kind = 'edit') ORDER BY id DESC LIMIT 1",
        row_id,
    )
    assert row is not None
    return dict(row["payload"])


def buttons(payload: dict[str, Any]) -> list[str]:
    rows = (payload.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


async def test_a_page_keeps_what_it_said_and_the_admin_chat_gets_a_line_per_level(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, tid = await payment_down(roster, ctx)
    t0 = clock.now()
    for minutes in (15, 60, 60 + 120):  # the response breach, level 2, level 3
        clock.set(t0 + timedelta(minutes=minutes))
        await scan_once(roster, clock, ctx)
    at_level_3 = when(t0 + timedelta(minutes=180), ctx.tz)
    tono = await users.get(roster, TONO)
    assert tono is not None
    clock.advance(minutes=5)
    await acknowledge(roster, clock, ctx, tid, tono)

    sari_page = await roster.fetchval(
        "SELECT id FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id LIMIT 1", SARI
    )
    page = await newest_text(roster, sari_page)
    text = page["text"]
    assert "needs you" in text and "Level 1 of 5" in text, text
    assert "Level 3 of 5" not in text, text
    assert f"Moved on to level 3 (Tech Lead) at {at_level_3}" in text, text
    assert "Acknowledged by Tono" in text, text
    # at its level now (and not customer-facing yet)
    assert buttons(page) == [f"inc:{tid}:esc:3", f"inc:{tid}:res:3", f"inc:{tid}:pub:3"]

    dewi_page = await roster.fetchval(
        "SELECT id FROM outbox WHERE chat_id = $1 AND kind = 'text'"
        " AND payload->>'text' LIKE '%escalated to level 2%'",
        DEWI,
    )
    text = (await newest_text(roster, dewi_page))["text"]
    assert "Level 2 of 5" in text and f"Moved on to level 3 (Tech Lead) at {at_level_3}" in text

    posted = await roster.fetch(
        "SELECT id, ref_id, payload FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id",
        ADMIN_CHAT,
    )
    card, lines = posted[0], posted[1:]
    assert buttons(dict(card["payload"])), card  # the one live card
    assert [line["payload"]["text"].split(" at ")[0] for line in lines] == [
        "⬆️ QC-000001 moved on to level 2 of 5 (Senior Engineer)",
        "⬆️ QC-000001 moved on to level 3 of 5 (Tech Lead)",
    ]
    assert all(line["ref_id"] == card["id"] for line in lines)
    assert all(not buttons(dict(line["payload"])) for line in lines)
    live = (await newest_text(roster, card["id"]))["text"]
    assert "Level 3 of 5" in live and "Acknowledged by Tono" in live, live
