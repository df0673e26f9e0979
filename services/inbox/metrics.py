"""Prometheus metrics of the inbox."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STORED = Counter("qc_inbox_stored_total", "Updates stored at intake", ["outcome"])
HANDLED = Counter("qc_inbox_handled_total", "Stored updates handled", ["outcome"])
DEPTH = Gauge("qc_inbox_rows", "Inbox rows by state", ["state"])
INTAKE_REFUSED = Counter(
    "qc_inbox_intake_unavailable_total", "Batches not stored (PostgreSQL down), not confirmed"
)
