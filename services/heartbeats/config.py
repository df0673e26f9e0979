"""RULES_FILE section `heartbeats`: checks defined in the file, and the ping endpoint's limits.

```yaml
heartbeats:
  checks:
    - name: nightly-backup
      schedule: "0 2 * * *"        # cron, in TIMEZONE (or `period: 1d`)
      grace: 1h
      severity: critical
      ping_key: 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278   # optional: kept secret, made if absent
  severity: warning                # of checks added with /heartbeat add
  body_limit: 10000                # bytes of a ping's body kept (Healthchecks' PING_BODY_LIMIT)
  log_per_minute: 5                # pings a minute a check's log keeps; more only move its state
  log_keep: 100                    # newest pings kept per check
```
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from services.alerts.durations import Duration
from services.heartbeats.model import MAX_PERIOD, MIN_PERIOD, NAME, BadSchedule, cron_trigger

SECTION = "heartbeats"


class HeartbeatSpec(BaseModel):
    name: str
    period: Duration | None = None
    schedule: str | None = None
    grace: Duration = timedelta(hours=1)
    severity: Literal["critical", "warning", "info"] = "warning"
    ping_key: uuid.UUID | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("a name is lower-case letters, digits, '.', '_' and '-' (max 63)")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                cron_trigger(value, "UTC")
            except BadSchedule:
                raise ValueError(f"not a five-field cron expression: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> HeartbeatSpec:
        if (self.period is None) == (self.schedule is None):
            raise ValueError("give exactly one of period and schedule")
        for what, value in (("period", self.period), ("grace", self.grace)):
            if value is not None and not MIN_PERIOD <= value <= MAX_PERIOD:
                raise ValueError(f"{what} must be between 1 minute and 365 days")
        return self


class HeartbeatsRules(BaseModel):
    checks: list[HeartbeatSpec] = Field(default_factory=list)
    severity: Literal["critical", "warning", "info"] = "warning"
    body_limit: int = Field(default=10_000, ge=0, le=1_000_000)
    log_per_minute: int = Field(default=5, ge=1)
    log_keep: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _unique(self) -> HeartbeatsRules:
        names = [c.name for c in self.checks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"heartbeat names must be unique: {', '.join(twice)}")
        return self


@dataclass(frozen=True)
class PingDoor:
    """Where jobs reach /ping/<uuid> and the time zone schedules are read in: built once by
    the bot from its settings and handed to the handlers."""

    base_url: str
    timezone: str

    def url(self, key: str) -> str:
        return f"{self.base_url.rstrip('/')}/ping/{key}"
