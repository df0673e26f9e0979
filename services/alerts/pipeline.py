"""One turn of the alerting loop (the scheduler calls `tick` every few seconds), and what
`/alerts` shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.alerts import engine, notify, silences, store
from services.alerts.config import AlertsRules
from services.alerts.incidents import OpenIncident
from services.alerts.sources import MetricSource
from services.clock import Clock
from services.storage.types import Executor


@dataclass
class TickReport:
    evaluation: engine.EvaluationReport
    flush: notify.FlushReport
    windows_closed: list[int] = field(default_factory=list)


async def tick(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    audience: notify.Audience,
    *,
    monitor_db: Executor | None = None,
    sources: Mapping[str, MetricSource] | None = None,
    open_incident: OpenIncident | None = None,
    evaluate_rules: bool = True,
) -> TickReport:
    evaluation = (
        await engine.evaluate(pool, config, clock, monitor_db=monitor_db, sources=sources)
        if evaluate_rules
        else engine.EvaluationReport()
    )
    closed = await notify.close_ended_windows(pool, clock, audience)
    flushed = await notify.flush_due(pool, config, clock, audience, open_incident=open_incident)
    return TickReport(evaluation, flushed, closed)


@dataclass(frozen=True)
class Overview:
    firing: list[store.AlertRow]
    pending: list[store.AlertRow]
    silenced: list[tuple[store.AlertRow, silences.Silence]]
    window: silences.MaintenanceWindow | None


async def overview(db: Executor, now: datetime) -> Overview:
    """Firing, then pending, then silenced alerts (for `/alerts`)."""
    active = await store.active_alerts(db)
    current = await silences.active_silences(db, now)
    firing: list[store.AlertRow] = []
    pending: list[store.AlertRow] = []
    muted: list[tuple[store.AlertRow, silences.Silence]] = []
    for alert in active:
        silence = silences.silenced_by(current, alert.labels, now)
        if silence is not None:
            muted.append((alert, silence))
        elif alert.state == "firing":
            firing.append(alert)
        else:
            pending.append(alert)
    return Overview(firing, pending, muted, await silences.active_window(db, now))
