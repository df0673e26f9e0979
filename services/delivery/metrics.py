"""Delivery metrics on the default Prometheus registry (shown by `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_DEPTH = Gauge(
    "qc_outbox_rows", "Outbox rows by status (sent/coalesced: last 24 h)", ["status"]
)
SEND_LATENCY = Histogram(
    "qc_outbox_send_latency_seconds",
    "Time from enqueue to sent (or coalesced into a digest)",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
SENDS = Counter(
    "qc_outbox_sends_total",
    "Send attempts by outcome (sent, retry_after, transient, permanent, migrated, gave_up)",
    ["outcome"],
)
RETRY_AFTER = Counter("qc_outbox_retry_after_total", "429 answers received from Telegram")
COALESCED = Counter("qc_outbox_coalesced_total", "Notifications folded into a digest message")
DIRECT_RETRIES = Counter(
    "qc_direct_reply_retries_total", "Direct Bot API calls retried by the session", ["reason"]
)
ANSWERS_AT_ONCE = Counter(
    "qc_outbox_answers_at_once_total",
    "Answers to people claimed right after their commit while the worker's loop had no free slot",
)
