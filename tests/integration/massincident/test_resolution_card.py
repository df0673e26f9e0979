"""The card after the resolution: the resolution itself edits it at once; the progress of the
resolution's fan-out ("sent 312 / 500") is throttled like any other (card_edit_seconds).

Counting each resolution row used to edit the card at once: every tenth row sent queued an
edit due now into both staff chats, each waiting for the group's 20-a-minute budget in a
delivery slot, and each being given a newer text by the next hook while the worker tried to
claim it (the fan-out then waited for the worker's poll: 1.5x the 30/s floor)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services.clock import FrozenClock
from services.escalation import incidents
from services.escalation.context import make_context
from services.massincident import store_updates as updates
from services.massincident.config import MassContext, MassRules
from services.massincident.delivery import FanOutDeliveryHook
from services.rules import Rules
from tests.cast import person
from tests.integration.escalation.conftest import ADMIN_CHAT, SUPPORT_CHAT, TONO
from tests.integration.massincident.affected import BOB, mass_context

from .test_fanout import linked_incident, roster, row_of

__all__ = ["roster"]  # the fixture, shared with test_fanout


@pytest.fixture
def mctx() -> MassContext:
    return mass_context(MassRules())  # the card: one edit per 15 s per chat


async def card_edits(db: asyncpg.Pool, tid: int) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT id, owner, status, not_before, created_at, payload->>'text' AS text
               FROM outbox WHERE owner LIKE $1 AND kind = 'edit' ORDER BY id""",
            f"pubcard:{tid}:%",
        )
    )


async def test_the_resolution_edits_the_card_at_once_and_its_progress_is_throttled(
    roster: asyncpg.Pool, mctx: MassContext
) -> None:
    clock = FrozenClock()
    tid = await linked_incident(roster, mctx, clock)
    # the cards were edited as the customers were linked: those edits have left
    await roster.execute(
        "UPDATE outbox SET status = 'sent', sent_at = $2 WHERE owner LIKE $1",
        f"pubcard:{tid}:%",
        clock.now() - timedelta(minutes=5),
    )
    clock.advance(timedelta(minutes=5))
    await incidents.resolve(roster, clock, mctx.escalation, tid, await person(roster, TONO))
    resolution = [e for e in await card_edits(roster, tid) if e["status"] == "pending"]
    assert len(resolution) == 2, "the card in the support group and in the admin chat"
    # at once: no time of its own (the database's now) or due by the bot's clock
    assert all(
        e["not_before"] == e["created_at"] or e["not_before"] <= clock.now() for e in resolution
    ), "the resolution: at once"
    # they leave now
    await roster.execute(
        "UPDATE outbox SET status = 'sent', sent_at = $2 WHERE id = ANY($1::bigint[])",
        [e["id"] for e in resolution],
        clock.now(),
    )

    update = await updates.latest_update(roster, tid)
    assert update is not None and update.kind == "resolved" and update.total == 3
    hook = FanOutDeliveryHook(mctx, clock)
    sent = await roster.fetch(
        "SELECT * FROM outbox WHERE owner = $1 ORDER BY id", f"pubupd:{update.id}"
    )
    clock.advance(timedelta(seconds=2))
    for row in sent:
        await hook.on_sent(roster, row_of(row), {"message_id": 1})

    progress = [e for e in await card_edits(roster, tid) if e["status"] == "pending"]
    assert len(progress) == 2, progress
    due = clock.now() + timedelta(seconds=mctx.rules.card_edit_seconds - 2)
    assert all(e["not_before"] == due for e in progress), (
        "the fan-out's progress waits for the card's pace",
        [(e["owner"], e["not_before"]) for e in progress],
    )
    assert all("3 / 3" in e["text"] for e in progress), [e["text"] for e in progress]


async def test_the_resolution_tells_customers_the_reopen_days_of_the_rules_file(
    roster: asyncpg.Pool,
) -> None:
    """RULES_FILE `mass_incidents.reopen_days: 3`: the resolution says 3 days, the days the
    aftercare keeps to (it used to say the built-in 7: the resolution read no rules file)."""
    rules = Rules({"mass_incidents": {"reopen_days": 3}})
    ctx = make_context(
        rules, timezone="Asia/Jakarta", admin_chat_id=ADMIN_CHAT, support_chat_id=SUPPORT_CHAT
    )
    mctx = MassContext(ctx, rules.section("mass_incidents", MassRules))
    clock = FrozenClock()
    tid = await linked_incident(roster, mctx, clock)
    await incidents.resolve(roster, clock, ctx, tid, await person(roster, TONO))
    told = await roster.fetchval(
        """SELECT payload->>'text' FROM outbox
           WHERE chat_id = $1 AND owner LIKE 'pubupd:%' ORDER BY id DESC LIMIT 1""",
        BOB,
    )
    assert "within 3 days" in told, told
