"""`/insights 30d` on a seeded month: the figures the bot answers with are the ones this test
computes on its own from the same seed (plain Python over the list below, no SQL).

The month: four incidents inside the period and one before it, pages to Sari and Maya, tickets
from the bot, e-mail and the admin chat with their first answers early or late, ratings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from services.clock import FrozenClock
from services.i18n import use_locale
from services.insights import render
from services.insights.figures import Attainment, Insights, Timing
from tests.cast import ADMIN
from tests.e2e.conftest import World
from tests.e2e.rooms_world import MAYA, SARI, says

NOW = datetime(2030, 2, 1, 1, 0, tzinfo=UTC)
START = NOW - timedelta(days=30)
TZ = "Asia/Jakarta"
CUSTOMER = 1001


@dataclass(frozen=True)
class SeedIncident:
    priority: str
    opened: datetime
    ack_min: int | None
    res_min: int | None
    level: int
    paged: tuple[int, ...]


@dataclass(frozen=True)
class SeedTicket:
    priority: str
    channel: str
    created: datetime
    due_min: int
    answered_min: int | None
    rating: int | None = None
    rated: datetime | None = None


INCIDENTS = [
    SeedIncident("P0", NOW - timedelta(days=25), 4, 50, 1, (SARI,)),
    SeedIncident("P0", NOW - timedelta(days=10, hours=3), 10, 130, 2, (SARI, MAYA)),
    SeedIncident("P1", NOW - timedelta(days=20), 20, None, 1, (SARI,)),
    SeedIncident("P1", NOW - timedelta(days=8), None, 300, 3, (MAYA,)),
    SeedIncident("P2", NOW - timedelta(days=40), 1, 10, 1, (MAYA,)),  # before the period
]
TICKETS = [
    SeedTicket("P1", "bot", NOW - timedelta(days=29), 60, 30, 5, NOW - timedelta(days=28)),
    SeedTicket("P1", "bot", NOW - timedelta(days=15), 60, 90, 2, NOW - timedelta(days=14)),
    SeedTicket("P2", "email", NOW - timedelta(days=12), 240, 100, 4, NOW - timedelta(days=11)),
    SeedTicket("P2", "email", NOW - timedelta(days=2), 240, None),  # past due, unanswered
    SeedTicket("P3", "bot", NOW - timedelta(hours=2), 1440, None),  # not due yet: not counted
    SeedTicket("P1", "bot", NOW - timedelta(days=45), 60, 10, 1, NOW - timedelta(days=44)),
]


async def seed(world: World) -> None:
    pool = world.pool
    for user_id, name in ((SARI, "Sari"), (MAYA, "Maya"), (CUSTOMER, "Budi")):
        await pool.execute(
            "INSERT INTO users (id, first_name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            user_id,
            name,
        )
    for t in TICKETS:
        answered = None if t.answered_min is None else t.created + timedelta(minutes=t.answered_min)
        await pool.execute(
            """
            INSERT INTO tickets (customer_id, status, priority, category, channel, subject,
                                 description, created_at, updated_at, response_due,
                                 resolution_due, first_response_at, rating, rated_at)
            VALUES ($1, 'open', $2, 'payment', $3, 's', 'd', $4, $4, $5, $6, $7, $8, $9)
            """,
            CUSTOMER, t.priority, t.channel, t.created, t.created + timedelta(minutes=t.due_min),
            t.created + timedelta(days=1), answered, t.rating, t.rated,
        )  # fmt: skip
    for i in INCIDENTS:
        ticket_id = await pool.fetchval(
            """
            INSERT INTO tickets (customer_id, status, priority, category, channel, subject,
                                 description, created_at, updated_at, response_due,
                                 resolution_due)
            VALUES (0, 'open', $1, 'other', 'admin_chat', 'incident', 'd', $2, $2, $3, $4)
            RETURNING id
            """,
            i.priority, i.opened, i.opened + timedelta(minutes=15), i.opened + timedelta(hours=4),
        )  # fmt: skip
        await pool.execute(
            """
            INSERT INTO incidents (ticket_id, priority, source, level, opened_at,
                                   level_entered_at, acknowledged_at, resolved_at, escalations)
            VALUES ($1, $2, 'staff', $3::smallint, $4, $4, $5, $6, $3::int - 1)
            """,
            ticket_id, i.priority, i.level, i.opened,
            None if i.ack_min is None else i.opened + timedelta(minutes=i.ack_min),
            None if i.res_min is None else i.opened + timedelta(minutes=i.res_min),
        )  # fmt: skip
        await pool.execute(
            "INSERT INTO ticket_events (ticket_id, at, kind, details) "
            "VALUES ($1, $2, 'incident_notified', $3)",
            ticket_id, i.opened, {"why": "opened", "people": list(i.paged)},
        )  # fmt: skip


def expected() -> Insights:
    """The same figures, computed here from the seed lists."""
    inside = [i for i in INCIDENTS if START <= i.opened < NOW]

    def timing(key: str, group: list[SeedIncident]) -> Timing:
        acks = [i.ack_min * 60 for i in group if i.ack_min is not None]
        ress = [i.res_min * 60 for i in group if i.res_min is not None]
        return Timing(key, len(group), mean(acks) if acks else None, mean(ress) if ress else None)

    by_priority: dict[str, list[SeedIncident]] = defaultdict(list)
    by_level: dict[int, list[SeedIncident]] = defaultdict(list)
    for i in inside:
        by_priority[i.priority].append(i)
        by_level[i.level].append(i)
    weeks: Counter[date] = Counter()
    for i in inside:
        local = i.opened.astimezone(ZoneInfo(TZ)).date()
        weeks[local - timedelta(days=local.weekday())] += 1
    pages: Counter[str] = Counter()
    names = {SARI: "Sari", MAYA: "Maya"}
    for i in inside:
        for person in i.paged:
            pages[names[person]] += 1
    all_tickets = [
        *(SeedTicket(t.priority, t.channel, t.created, t.due_min, t.answered_min) for t in TICKETS),
        *(SeedTicket(i.priority, "admin_chat", i.opened, 15, None) for i in INCIDENTS),
    ]
    created_inside = [t for t in all_tickets if START <= t.created < NOW]

    def attainment(key: str, group: list[SeedTicket]) -> Attainment:
        met = known = 0
        for t in group:
            due = t.created + timedelta(minutes=t.due_min)
            if t.answered_min is not None:
                known += 1
                met += t.answered_min <= t.due_min
            elif due < NOW:
                known += 1
        return Attainment(key, len(group), met, known)

    def grouped(attr: str) -> list[Attainment]:
        keys = sorted({getattr(t, attr) for t in created_inside})
        return [attainment(k, [t for t in created_inside if getattr(t, attr) == k]) for k in keys]

    rated = [t.rating for t in TICKETS if t.rated and START <= t.rated < NOW and t.rating]
    found = Insights(START, NOW, TZ)
    found.by_severity = [timing(p, g) for p, g in sorted(by_priority.items())]
    found.by_level = [timing(str(level), g) for level, g in sorted(by_level.items())]
    found.per_week = sorted(weeks.items())
    found.pages = sorted(pages.items(), key=lambda p: (-p[1], p[0]))
    found.sla_by_priority = grouped("priority")
    found.sla_by_channel = grouped("channel")
    found.csat_ratings = len(rated)
    found.csat_average = mean(rated)
    found.csat_satisfied = sum(1 for r in rated if r >= 4)
    return found


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(NOW)


async def test_insights_of_a_seeded_month_match_the_figures_computed_here(
    world_unstarted: World,
) -> None:
    world = world_unstarted
    await world.start_bot()
    await seed(world)
    answer = await says(world, ADMIN, world.admin_chat_id, "/insights 30d")
    want = expected()
    # a few figures spelled out, so a wrong renderer cannot hide a wrong number
    assert [t.key for t in want.by_severity] == ["P0", "P1"]
    assert want.by_severity[0].mtta_s == 7 * 60 and want.by_severity[0].mttr_s == 90 * 60
    assert want.pages == [("Sari", 3), ("Maya", 2)]
    assert want.csat_average == pytest.approx(11 / 3)
    with use_locale("id"):
        assert answer["text"] == _visible(render.message(want))
    assert "P0: 2 insiden, MTTA 7.0 min, MTTR 90.0 min" in answer["text"], answer["text"]
    audited = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'insights.view' AND NOT allowed"
    )
    assert audited == 0


def _visible(html_text: str) -> str:
    """What Telegram shows of an HTML message (tags gone, entities unescaped)."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))
