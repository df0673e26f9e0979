"""Heartbeat metrics on the default Prometheus registry (shown by `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

PINGS = Counter(
    "qc_heartbeat_pings_total",
    "Heartbeat pings received, by kind (success, start, fail) and outcome (logged, rate_limited)",
    ["kind", "outcome"],
)
