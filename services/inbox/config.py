"""Inbox settings: the `inbox` section of RULES_FILE."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FloodLimit(BaseModel):
    """A private chat may have this many updates accepted in any rolling window; the rest are
    refused at intake (stored, never handled) and the sender is told once per window."""

    model_config = ConfigDict(frozen=True)

    updates: int = Field(default=20, ge=1)  # the desk answers "too fast" past 20 a minute too
    window_seconds: float = Field(default=60.0, gt=0)


class InboxConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Updates handled at once by one process (each conversation still one at a time).
    concurrency: int = Field(default=32, ge=1)
    # Updates of one conversation taken in one go when they waited (a storm's backlog).
    run: int = Field(default=50, ge=1)
    poll_interval: float = Field(default=1.0, gt=0)  # other replicas' webhook rows, retries
    # A store outage (Redis or PostgreSQL unreachable) is retried with backoff, forever;
    # any other error is retried this many times, then the row is kept as 'failed'.
    max_attempts: int = Field(default=3, ge=1)
    backoff_base: float = Field(default=0.5, gt=0)
    backoff_cap: float = Field(default=5.0, gt=0)
    stop_grace: float = Field(default=5.0, ge=0)
    flood: FloodLimit = FloodLimit()

    def backoff(self, attempts: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1)))
