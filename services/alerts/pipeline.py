"""One turn of the alerting loop (the scheduler calls `tick` every few seconds), and what
`/alerts` shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.alerts import dispatch, engine, inbox, inhibition, model, silences, store
from services.alerts.config import AlertsRules
from services.alerts.incidents import OpenIncident
from services.alerts.outbound import Audience
from services.alerts.sources import MetricSource
from services.clock import Clock
from services.storage.db import transaction
from services.storage.types import Executor


@dataclass
class TickReport:
    evaluation: engine.EvaluationReport
    flush: dispatch.FlushReport
    windows_closed: list[int] = field(default_factory=list)


async def tick(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    audience: Audience,
    *,
    monitor_db: Executor | None = None,
    sources: Mapping[str, MetricSource] | None = None,
    open_incident: OpenIncident | None = None,
    evaluate_rules: bool = True,
) -> TickReport:
    # Alertmanager's payloads the inbox's consumer has not folded yet (it waits for a burst to
    # pause, or lags): those that arrived before the last second join their groups first
    await inbox.fold_all(pool, config, clock, received_before=clock.now() - inbox.SETTLED)
    evaluation = (
        await engine.evaluate(pool, config, clock, monitor_db=monitor_db, sources=sources)
        if evaluate_rules
        else engine.EvaluationReport()
    )
    closed = await dispatch.close_ended_windows(pool, clock, audience)
    async with transaction(pool) as conn:
        changed = await inhibition.apply(conn, config.inhibitions)
        await store.touch_groups(conn, changed, clock.now(), config.grouping)
    flushed = await dispatch.flush_due(pool, config, clock, audience, open_incident=open_incident)
    return TickReport(evaluation, flushed, closed)


@dataclass(frozen=True)
class Overview:
    firing: list[model.AlertRow]
    pending: list[model.AlertRow]
    silenced: list[tuple[model.AlertRow, silences.Silence]]
    window: silences.MaintenanceWindow | None
    # firing alerts an inhibit rule mutes, with the alert that mutes them
    inhibited: list[tuple[model.AlertRow, model.AlertRow]] = field(default_factory=list)


async def overview(db: Executor, now: datetime) -> Overview:
    """Firing, then pending, then silenced, then inhibited alerts (for `/alerts`)."""
    active = await store.active_alerts(db)
    current = await silences.active_silences(db, now)
    sources = await store.alerts_by_fingerprint(
        db, [a.inhibited_by for a in active if a.inhibited_by and a.state == "firing"]
    )
    firing: list[model.AlertRow] = []
    pending: list[model.AlertRow] = []
    muted: list[tuple[model.AlertRow, silences.Silence]] = []
    inhibited: list[tuple[model.AlertRow, model.AlertRow]] = []
    for alert in active:
        silence = silences.silenced_by(current, alert.labels, now)
        source = sources.get(alert.inhibited_by or "") if alert.state == "firing" else None
        if source is not None:
            inhibited.append((alert, source))
        elif silence is not None:
            muted.append((alert, silence))
        elif alert.state == "firing":
            firing.append(alert)
        else:
            pending.append(alert)
    return Overview(firing, pending, muted, await silences.active_window(db, now), inhibited)
