"""The figures of the weekly and monthly reports, read from what the bot stored.

- uptime per day: the share of health-check runs in which no availability check (database,
  redis, payment by default) was critical; `unknown` results do not count either way;
- incidents by priority (migration 0008 `incidents` + 0003 `tickets`): SLA met when the first
  acknowledgement came before the ticket's response deadline; MTTA and MTTR in seconds;
- escalations, alerts by severity, backup verifications and restore tests, maintenance runs,
  payment success rate per day and fraud figures from the stored samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.insights.figures import Insights
from services.reports.quickcart import QuickCartFigures
from services.storage.types import Executor

AVAILABILITY_CHECKS = ("database", "redis", "payment")
PRIORITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class IncidentStats:
    priority: str
    count: int
    resolved: int
    sla_met: int
    sla_known: int
    mtta_s: float | None
    mttr_s: float | None

    @property
    def sla_percent(self) -> float | None:
        return None if self.sla_known == 0 else self.sla_met * 100.0 / self.sla_known


@dataclass
class ReportData:
    kind: Literal["weekly", "monthly"]
    start: datetime
    end: datetime
    timezone: str
    uptime_target: float
    uptime_by_day: list[tuple[date, float | None]] = field(default_factory=list)
    uptime_percent: float | None = None
    check_runs: int = 0
    incidents: list[IncidentStats] = field(default_factory=list)
    incidents_per_week: list[tuple[date, int]] = field(default_factory=list)
    escalations: int = 0
    alerts_by_severity: dict[str, int] = field(default_factory=dict)
    backup_checks: int = 0
    backup_failures: int = 0
    restore_tests: list[tuple[datetime, bool, float]] = field(default_factory=list)
    runs_by_status: dict[str, int] = field(default_factory=dict)
    failed_runs: list[tuple[str, datetime, str]] = field(default_factory=list)
    payment_by_day: list[tuple[date, float | None]] = field(default_factory=list)
    false_positive_percent: float | None = None
    review_queue: float | None = None
    # MTTA/MTTR per severity and level, pages per person, ticket SLA, CSAT, follow-ups
    insights: Insights | None = None

    @property
    def uptime_met(self) -> bool | None:
        return None if self.uptime_percent is None else self.uptime_percent >= self.uptime_target

    @property
    def alerts_total(self) -> int:
        return sum(self.alerts_by_severity.values())

    @property
    def incidents_total(self) -> int:
        return sum(i.count for i in self.incidents)


def period(
    kind: Literal["weekly", "monthly"], now: datetime, tz: ZoneInfo, *, to_now: bool = False
) -> tuple[datetime, datetime]:
    """Weekly: the 7 complete days before today (local midnight), the scheduled Monday report;
    with `to_now` (what /report weekly asks for), the last 7 days up to now: today so far and
    the 6 days before it. Monthly: the calendar month of `now` up to `now` when run in its last
    day (the compliance report at 23:00), otherwise the previous calendar month (the report
    built on the 1st)."""
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "weekly":
        if to_now:
            return midnight - timedelta(days=6), local
        return (midnight - timedelta(days=7)), midnight
    first = midnight.replace(day=1)
    if (local + timedelta(days=1)).month != local.month:  # the last day: this month so far
        return first, local
    previous_first = (first - timedelta(days=1)).replace(day=1)
    return previous_first, first


_UPTIME = """
WITH runs AS (
    SELECT cr.started_at, bool_or(res.status = 'crit') AS down
    FROM check_runs cr
    JOIN check_results res ON res.run_id = cr.id
    WHERE cr.started_at >= $1 AND cr.started_at < $2
      AND res.name = ANY($4::text[]) AND res.status <> 'unknown'
    GROUP BY cr.id, cr.started_at
)
SELECT (started_at AT TIME ZONE $3)::date AS day, count(*) AS total,
       count(*) FILTER (WHERE NOT down) AS up
FROM runs GROUP BY 1 ORDER BY 1
"""

_INCIDENTS = """
SELECT i.priority, count(*) AS n, count(i.resolved_at) AS resolved,
       count(*) FILTER (WHERE coalesce(i.acknowledged_at, t.first_response_at) <= t.response_due)
           AS sla_met,
       count(*) FILTER (WHERE coalesce(i.acknowledged_at, t.first_response_at) IS NOT NULL
                           OR t.response_due < $2) AS sla_known,
       avg(extract(epoch FROM i.acknowledged_at - i.opened_at)) AS mtta,
       avg(extract(epoch FROM i.resolved_at - i.opened_at)) AS mttr,
       coalesce(sum(i.escalations), 0) AS escalations
FROM incidents i JOIN tickets t ON t.id = i.ticket_id
WHERE i.opened_at >= $1 AND i.opened_at < $2
GROUP BY i.priority
"""

_INCIDENTS_PER_WEEK = """
SELECT date_trunc('week', i.opened_at AT TIME ZONE $3)::date AS week, count(*) AS n
FROM incidents i
WHERE i.opened_at >= $1 AND i.opened_at < $2
GROUP BY 1 ORDER BY 1
"""

_DAILY_SAMPLE = """
SELECT (at AT TIME ZONE $3)::date AS day, avg(value) AS value
FROM check_samples
WHERE check_name = $4 AND key = $5 AND at >= $1 AND at < $2
GROUP BY 1 ORDER BY 1
"""


def _days(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def collect(
    db: Executor,
    kind: Literal["weekly", "monthly"],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    *,
    uptime_target: float = 99.5,
    availability_checks: tuple[str, ...] = AVAILABILITY_CHECKS,
    quickcart: QuickCartFigures | None = None,
) -> ReportData:
    """The period's figures from the bot's own records; payments and fraud reviews from
    QuickCart's database where `quickcart` has them (it knows days before the bot existed)."""
    data = ReportData(kind, start, end, str(tz), uptime_target)
    zone = str(tz)
    days = _days(start, end, tz)
    rows = {
        r["day"]: r for r in await db.fetch(_UPTIME, start, end, zone, list(availability_checks))
    }
    total = sum(int(r["total"]) for r in rows.values())
    up = sum(int(r["up"]) for r in rows.values())
    data.check_runs = total
    data.uptime_percent = None if total == 0 else up * 100.0 / total
    data.uptime_by_day = [
        (d, int(rows[d]["up"]) * 100.0 / int(rows[d]["total"]) if d in rows else None) for d in days
    ]
    escalations = 0
    for r in await db.fetch(_INCIDENTS, start, end):
        escalations += int(r["escalations"])
        data.incidents.append(
            IncidentStats(
                priority=r["priority"],
                count=int(r["n"]),
                resolved=int(r["resolved"]),
                sla_met=int(r["sla_met"]),
                sla_known=int(r["sla_known"]),
                mtta_s=None if r["mtta"] is None else float(r["mtta"]),
                mttr_s=None if r["mttr"] is None else float(r["mttr"]),
            )
        )
    data.incidents.sort(key=lambda i: PRIORITIES.index(i.priority))
    data.escalations = escalations
    data.incidents_per_week = [
        (r["week"], int(r["n"])) for r in await db.fetch(_INCIDENTS_PER_WEEK, start, end, zone)
    ]
    data.alerts_by_severity = {
        r["severity"]: int(r["n"])
        for r in await db.fetch(
            "SELECT severity, count(*) AS n FROM alerts WHERE fired_at >= $1 AND fired_at < $2 "
            "GROUP BY severity ORDER BY severity",
            start,
            end,
        )
    }
    row = await db.fetchrow(
        "SELECT count(*) AS n, count(*) FILTER (WHERE NOT ok) AS bad FROM backup_verifications "
        "WHERE kind = 'checksum' AND at >= $1 AND at < $2",
        start,
        end,
    )
    data.backup_checks, data.backup_failures = int(row["n"]), int(row["bad"])
    data.restore_tests = [
        (r["at"], bool(r["ok"]), r["duration_ms"] / 1000)
        for r in await db.fetch(
            "SELECT at, ok, duration_ms FROM backup_verifications WHERE kind = 'restore_test' "
            "AND at >= $1 AND at < $2 ORDER BY at",
            start,
            end,
        )
    ]
    for r in await db.fetch(
        "SELECT job, started_at, status, summary FROM maintenance_runs "
        "WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at",
        start,
        end,
    ):
        data.runs_by_status[r["status"]] = data.runs_by_status.get(r["status"], 0) + 1
        if r["status"] == "failed":
            data.failed_runs.append((r["job"], r["started_at"], r["summary"]))
    payment = {
        r["day"]: float(r["value"])
        for r in await db.fetch(_DAILY_SAMPLE, start, end, zone, "payment", "success_rate_percent")
    }
    if quickcart is not None:
        payment.update(quickcart.payment_by_day)
    data.payment_by_day = [(d, payment.get(d)) for d in days]
    data.false_positive_percent = await db.fetchval(
        "SELECT avg(value) FROM check_samples WHERE check_name = 'fraud' "
        "AND key = 'false_positive_percent' AND at >= $1 AND at < $2",
        start,
        end,
    )
    data.review_queue = await db.fetchval(
        "SELECT avg(value) FROM check_samples WHERE check_name = 'fraud' "
        "AND key = 'review_queue' AND at >= $1 AND at < $2",
        start,
        end,
    )
    if quickcart is not None:
        if quickcart.false_positive_percent is not None:
            data.false_positive_percent = quickcart.false_positive_percent
        if data.review_queue is None:
            data.review_queue = quickcart.review_queue
    return data
