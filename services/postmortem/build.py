"""The facts of a postmortem, computed from the stored incident and its timeline events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.escalation import store as incidents_store
from services.escalation.queries import describe
from services.reports.quickcart import QuickCartDatabase
from services.rooms import store as rooms_store
from services.storage.types import Executor
from services.tickets import briefs as tickets


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str | None
    text: str


@dataclass(frozen=True)
class FollowupLine:
    text: str
    owner: str | None
    done: bool


@dataclass
class Postmortem:
    number: str
    title: str
    priority: str
    source: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    lead: str | None
    comms: str | None
    level: int
    customers: int
    payments_failed: int | None  # None: QuickCart's database not configured / unreachable
    detected_by: str  # "alert" | "ticket" | "staff" | ...
    first_alert: str | None
    first_alert_at: datetime | None
    last_update: str | None
    timeline: list[Line] = field(default_factory=list)
    followups: list[FollowupLine] = field(default_factory=list)

    @property
    def mtta_s(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.opened_at).total_seconds()

    @property
    def mttr_s(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()

    @property
    def duration_s(self) -> float | None:
        return self.mttr_s


async def build(
    db: Executor, ticket_id: int, *, payments_failed: int | None = None
) -> Postmortem | None:
    """MTTA and MTTR come from the timeline's events (opened, first acknowledgement,
    resolution), the same ones the draft lists."""
    incident = await incidents_store.get(db, ticket_id)
    ticket = await tickets.brief(db, ticket_id)
    if incident is None or ticket is None:
        return None
    room = await rooms_store.get(db, ticket_id)
    events = await tickets.events(db, ticket_id)
    opened = next((e.at for e in events if e.kind == "incident_opened"), incident.opened_at)
    acked = next((e.at for e in events if e.kind == "incident_acknowledged"), None)
    resolved = [e.at for e in events if e.kind == "incident_resolved"]
    first_alert = next((e for e in events if e.kind == "alert_firing"), None)
    lines = [Line(e.at, e.actor_name, describe(e.kind, e.actor_name, e.details)) for e in events]
    followups = [
        FollowupLine(f.text, f.owner_name, f.done_at is not None)
        for f in await rooms_store.followups_of(db, ticket_id)
    ]
    return Postmortem(
        number=ticket.number,
        title=ticket.title,
        priority=incident.priority,
        source=incident.source,
        opened_at=opened,
        acknowledged_at=acked,
        resolved_at=resolved[-1] if resolved else incident.resolved_at,
        lead=await tickets.display_name(db, room.lead_id) if room else None,
        comms=await tickets.display_name(db, room.comms_id) if room else None,
        level=incident.level,
        customers=await rooms_store.affected_customers(db, ticket_id),
        payments_failed=payments_failed,
        detected_by="alert"
        if first_alert is not None or incident.source == "alert"
        else incident.source,
        first_alert=str(first_alert.details.get("alert")) if first_alert else None,
        first_alert_at=first_alert.at if first_alert else None,
        last_update=room.last_update_text if room else None,
        timeline=lines,
        followups=followups,
    )


async def payments_failed(
    source: QuickCartDatabase | None, start: datetime, end: datetime | None, tz: ZoneInfo
) -> int | None:
    """Payments that finished unsuccessfully in QuickCart's database during the incident."""
    if source is None or end is None:
        return None
    from services.checks.probe import ProbeFailed
    from services.checks.probes._pg import monitor_connection
    from services.reports.quickcart import _query

    try:
        async with monitor_connection(
            source.url, setting="MONITOR_DATABASE_URL", timeout=source.timeout_s
        ) as conn:
            rows = await _query(conn, source.rules.payment.daily_sql, start, end, str(tz))
    except ProbeFailed:
        return None
    if rows is None:
        return None
    return sum(int(r["finished"] or 0) - int(r["succeeded"] or 0) for r in rows)
