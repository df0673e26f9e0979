"""Prometheus alert states, as pure functions: inactive -> pending -> firing -> resolved.

- The condition turns true: the alert is *pending* from that moment.
- It stays true for `for`: the alert is *firing* (with `for` = 0 it fires at once).
- It turns false while pending: back to *inactive*, nobody was told (a flapping value
  never notifies unless it holds for the whole `for`).
- It turns false while firing: *resolved* (after `keep_firing_for`, when set).
- No data (the metric could not be read): the state is kept; a missing probe is not a recovery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

State = Literal["inactive", "pending", "firing", "resolved"]


def fingerprint(labels: Mapping[str, str]) -> str:
    """A stable identity of an alert: the hash of its sorted labels."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def group_key(alertname: str, labels: Mapping[str, str], group_by: list[str]) -> str:
    """Alerts with the same rule and the same values of `group_by` share one message."""
    keyed = {name: labels.get(name, "") for name in group_by if name != "alertname"}
    canonical = json.dumps(sorted(keyed.items()), separators=(",", ":"), ensure_ascii=False)
    return f"{alertname}|{canonical}"


@dataclass(frozen=True)
class AlertState:
    state: State = "inactive"
    active_since: datetime | None = None  # condition true since
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    last_true_at: datetime | None = None  # for keep_firing_for


@dataclass(frozen=True)
class Step:
    state: AlertState
    changed: bool  # the state name changed

    @property
    def went_firing(self) -> bool:
        return self.changed and self.state.state == "firing"

    @property
    def went_resolved(self) -> bool:
        return self.changed and self.state.state == "resolved"


def step(
    previous: AlertState,
    condition: bool | None,
    now: datetime,
    for_: timedelta,
    keep_firing_for: timedelta = timedelta(),
) -> Step:
    """The next state of one alert after one evaluation; `condition` None means no data."""
    if condition is None:
        return Step(previous, False)
    current = previous.state
    if condition:
        if current in ("inactive", "resolved"):
            pending = AlertState("pending", active_since=now, last_true_at=now)
            if for_ <= timedelta():
                return Step(replace(pending, state="firing", fired_at=now), True)
            return Step(pending, True)
        if current == "pending":
            assert previous.active_since is not None
            if now - previous.active_since >= for_:
                return Step(replace(previous, state="firing", fired_at=now, last_true_at=now), True)
            return Step(replace(previous, last_true_at=now), False)
        return Step(replace(previous, last_true_at=now), False)  # firing stays firing
    if current == "pending":
        return Step(AlertState("inactive"), True)
    if current == "firing":
        since_true = previous.last_true_at or previous.fired_at or now
        if keep_firing_for > timedelta() and now - since_true < keep_firing_for:
            return Step(previous, False)
        return Step(replace(previous, state="resolved", resolved_at=now), True)
    return Step(previous, False)


def holds(value: float, op: str, threshold: float) -> bool:
    from services.alerts.config import COMPARE

    return COMPARE[op](value, threshold)
