"""Gauges of what is stored (alerts, tickets against their SLA, heartbeats), refreshed by the
monitoring loop, so `/metrics` (and the Grafana dashboard in docs/grafana) shows them."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge

from services.storage.types import Executor

ALERTS = Gauge("qc_alerts", "Alerts by state (pending, firing) and severity", ["state", "severity"])
TICKETS_OPEN = Gauge(
    "qc_tickets_open", "Active tickets (open, acknowledged, waiting)", ["priority"]
)
TICKETS_BREACHED = Gauge(
    "qc_tickets_sla_breached",
    "Active tickets past a deadline, by priority and deadline (response, resolution)",
    ["priority", "deadline"],
)
HEARTBEATS = Gauge("qc_heartbeats", "Heartbeat checks by stored status", ["status"])

PRIORITIES = ("P0", "P1", "P2", "P3")
SEVERITIES = ("critical", "warning", "info")


async def refresh(db: Executor, now: datetime) -> None:
    """Every series is set, zeros included, so a panel never shows "no data" for a calm day."""
    alerts = {
        (r["state"], r["severity"]): r["n"]
        for r in await db.fetch(
            "SELECT state, severity, count(*) AS n FROM alerts "
            "WHERE state IN ('pending', 'firing') GROUP BY 1, 2"
        )
    }
    for state in ("pending", "firing"):
        for severity in SEVERITIES:
            ALERTS.labels(state=state, severity=severity).set(alerts.get((state, severity), 0))
    rows = await db.fetch(
        """
        SELECT priority, count(*) AS open,
               count(*) FILTER (WHERE first_response_at IS NULL AND response_due < $1) AS response,
               count(*) FILTER (WHERE resolution_due < $1) AS resolution
        FROM tickets WHERE status IN ('open', 'acknowledged', 'waiting') GROUP BY priority
        """,
        now,
    )
    found = {r["priority"]: r for r in rows}
    for priority in PRIORITIES:
        row = found.get(priority)
        TICKETS_OPEN.labels(priority=priority).set(row["open"] if row else 0)
        for deadline in ("response", "resolution"):
            TICKETS_BREACHED.labels(priority=priority, deadline=deadline).set(
                row[deadline] if row else 0
            )
    statuses = {
        r["status"]: r["n"]
        for r in await db.fetch("SELECT status, count(*) AS n FROM heartbeats GROUP BY status")
    }
    for status in ("new", "up", "down", "paused"):
        HEARTBEATS.labels(status=status).set(statuses.get(status, 0))
