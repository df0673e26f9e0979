"""The alerts feature's records: an alert and an alert group as stored, and an alert to save."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.alerts.evaluation import AlertState


@dataclass(frozen=True)
class Alert:
    """What names an alert and what it says: an alert as stored, or about to be saved."""

    fingerprint: str
    source: str
    alertname: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    severity: str


@dataclass(frozen=True)
class AlertRow(Alert):
    id: int
    state: str
    value: float | None = None
    threshold: float | None = None
    comparison: str | None = None
    active_since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    evaluated_at: datetime | None = None
    runbook_url: str | None = None
    generator_url: str | None = None
    group_id: int | None = None
    inhibited_by: str | None = None  # fingerprint of the firing alert that inhibits this one

    def as_state(self) -> AlertState:
        return AlertState(
            self.state,  # type: ignore[arg-type]
            active_since=self.active_since,
            fired_at=self.fired_at,
            resolved_at=self.resolved_at,
            last_true_at=self.evaluated_at if self.state == "firing" else None,
        )


@dataclass(frozen=True)
class GroupRow:
    id: int
    group_key: str
    labels: dict[str, str]
    severity: str
    channels: list[str]
    status: str
    created_at: datetime
    next_flush_at: datetime | None
    last_flushed_at: datetime | None
    last_notified_at: datetime | None
    notified_firing: list[str]
    acknowledged_by: int | None = None
    acknowledged_name: str | None = None
    acknowledged_at: datetime | None = None
    incident_id: int | None = None
    escalated_at: datetime | None = None
    silence_id: int | None = None
    resolved_at: datetime | None = None
    messages: list[tuple[int, int]] = field(default_factory=list)  # (chat_id, outbox_id)
    # Set when the routing tree opened the group: its receivers and its route's timings.
    receivers: list[str] | None = None
    group_wait: timedelta | None = None
    group_interval: timedelta | None = None
    repeat_interval: timedelta | None = None
    storm_id: int | None = None  # shown in this storm message instead of its own (0036)

    @property
    def alertname(self) -> str:
        return self.group_key.split("|", 1)[0]


@dataclass(frozen=True)
class AlertWrite(Alert):
    state: AlertState
    value: float | None
    threshold: float | None
    comparison: str | None
    evaluated_at: datetime
    runbook_url: str | None = None
    group_id: int | None = None
