"""The figures, read from the bot's own records.

- MTTA / MTTR: incidents opened in the period; time from opening to the first
  acknowledgement / to resolution, averaged per severity and per level (the level the incident
  was at when it was acknowledged / resolved, i.e. its level now, as levels only rise);
- incidents per week: by the week (Monday, in TIMEZONE) they opened;
- pages per person: every person told by a page (the `incident_notified` timeline events);
- ticket SLA attainment: tickets created in the period whose first answer came by their
  response deadline, among those answered or already past it, per priority and per channel;
- CSAT: ratings given in the period (1–5): their average and the share of 4s and 5s;
- follow-ups recorded in the period and open now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from asyncpg import Record

from services.rooms.store import count_followups
from services.storage.types import Executor


@dataclass(frozen=True)
class Timing:
    key: str  # a severity ("P0") or a level ("1")
    incidents: int
    mtta_s: float | None
    mttr_s: float | None


@dataclass(frozen=True)
class Attainment:
    key: str  # a priority or a channel
    tickets: int
    met: int
    known: int

    @property
    def percent(self) -> float | None:
        return None if self.known == 0 else self.met * 100.0 / self.known


@dataclass
class Insights:
    start: datetime
    end: datetime
    timezone: str
    by_severity: list[Timing] = field(default_factory=list)
    by_level: list[Timing] = field(default_factory=list)
    per_week: list[tuple[date, int]] = field(default_factory=list)
    pages: list[tuple[str, int]] = field(default_factory=list)  # (name, pages), most first
    sla_by_priority: list[Attainment] = field(default_factory=list)
    sla_by_channel: list[Attainment] = field(default_factory=list)
    csat_average: float | None = None
    csat_ratings: int = 0
    csat_satisfied: int = 0  # ratings of 4 or 5
    followups_recorded: int = 0
    followups_open: int = 0

    @property
    def incidents(self) -> int:
        return sum(t.incidents for t in self.by_severity)

    @property
    def csat_percent(self) -> float | None:
        return None if self.csat_ratings == 0 else self.csat_satisfied * 100.0 / self.csat_ratings


# The grouping column is one of two the code names (never input): "priority" or "level".
_TIMINGS = """
SELECT {key} AS key, count(*) AS n,
       avg(extract(epoch FROM acknowledged_at - opened_at)) AS mtta,
       avg(extract(epoch FROM resolved_at - opened_at)) AS mttr
FROM incidents WHERE opened_at >= $1 AND opened_at < $2
GROUP BY 1 ORDER BY 1
"""

_PER_WEEK = """
SELECT date_trunc('week', opened_at AT TIME ZONE $3)::date AS week, count(*) AS n
FROM incidents WHERE opened_at >= $1 AND opened_at < $2
GROUP BY 1 ORDER BY 1
"""

_PAGES = """
SELECT p.user_id::bigint AS user_id, count(*) AS n,
       max(coalesce(u.first_name, s.display_name, p.user_id::text)) AS name
FROM ticket_events e
CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(e.details -> 'people', '[]')) AS p (user_id)
LEFT JOIN users u ON u.id = p.user_id::bigint
LEFT JOIN staff s ON s.user_id = p.user_id::bigint
WHERE e.kind = 'incident_notified' AND e.at >= $1 AND e.at < $2
GROUP BY 1 ORDER BY n DESC, name
"""

_SLA = """
SELECT {key} AS key, count(*) AS n,
       count(*) FILTER (WHERE first_response_at IS NOT NULL AND first_response_at <= response_due)
           AS met,
       count(*) FILTER (WHERE first_response_at IS NOT NULL OR response_due < $2) AS known
FROM tickets WHERE created_at >= $1 AND created_at < $2
GROUP BY 1 ORDER BY 1
"""

_CSAT = """
SELECT count(*) AS n, avg(rating) AS average, count(*) FILTER (WHERE rating >= 4) AS satisfied
FROM tickets WHERE rated_at >= $1 AND rated_at < $2 AND rating IS NOT NULL
"""


def _timing(r: Record) -> Timing:
    return Timing(
        key=str(r["key"]),
        incidents=int(r["n"]),
        mtta_s=None if r["mtta"] is None else float(r["mtta"]),
        mttr_s=None if r["mttr"] is None else float(r["mttr"]),
    )


def _attainment(r: Record) -> Attainment:
    return Attainment(str(r["key"]), int(r["n"]), int(r["met"]), int(r["known"]))


async def collect(db: Executor, start: datetime, end: datetime, timezone: str) -> Insights:
    found = Insights(start, end, timezone)
    found.by_severity = [
        _timing(r) for r in await db.fetch(_TIMINGS.format(key="priority"), start, end)
    ]
    levels = await db.fetch(_TIMINGS.format(key="level"), start, end)
    found.by_level = [_timing(r) for r in sorted(levels, key=lambda r: int(r["key"]))]
    found.per_week = [
        (r["week"], int(r["n"])) for r in await db.fetch(_PER_WEEK, start, end, timezone)
    ]
    found.pages = [(str(r["name"]), int(r["n"])) for r in await db.fetch(_PAGES, start, end)]
    found.sla_by_priority = [
        _attainment(r) for r in await db.fetch(_SLA.format(key="priority"), start, end)
    ]
    found.sla_by_channel = [
        _attainment(r) for r in await db.fetch(_SLA.format(key="channel"), start, end)
    ]
    csat = await db.fetchrow(_CSAT, start, end)
    if csat is not None and int(csat["n"]):
        found.csat_ratings = int(csat["n"])
        found.csat_average = float(csat["average"])
        found.csat_satisfied = int(csat["satisfied"])
    found.followups_recorded, found.followups_open = await count_followups(db, start, end)
    return found
