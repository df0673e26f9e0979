"""Delivery settings: Telegram's limits, retry policy, storm digests.

A pydantic model so it can be the `delivery` section of RULES_FILE
(`rules.section("delivery", DeliveryConfig)`); `admin_chat_id` comes from ADMIN_CHAT_ID.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """What the worker lets out, shared by every replica through Redis.

    Private chats and the bot as a whole: token buckets, their bursts a little under Telegram's
    so that jitter in request latency never turns a token we granted into a 429. Groups: at most
    `group_per_minute` sends in any rolling `group_window_seconds`, edits and topic changes
    included (Telegram does not say they are free), the window a second longer than Telegram's
    minute so that a request slower than the one before it still lands outside it.
    """

    model_config = ConfigDict(frozen=True)

    private_per_second: float = Field(default=1.0, gt=0)
    private_burst: int = Field(default=2, ge=1)
    group_per_minute: float = Field(default=20.0, gt=0)
    group_window_seconds: float = Field(default=61.0, gt=0)
    global_per_second: float = Field(default=30.0, gt=0)
    global_burst: int = Field(default=20, ge=1)

    def per_minute(self, chat_id: int) -> float:
        """What the chat may be sent in a minute."""
        if chat_id < 0:
            return self.group_per_minute * 60 / self.group_window_seconds
        return self.private_per_second * 60


class DeliveryConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    admin_chat_id: int | None = None
    limits: Limits = Limits()
    # Worker
    max_in_flight: int = Field(default=16, ge=1)
    poll_interval: float = Field(default=5.0, gt=0)  # fallback when no NOTIFY arrives
    flush_interval: float = Field(default=1.0, gt=0)  # how often dirty digests are looked at
    stop_grace: float = Field(default=5.0, ge=0)
    request_timeout: float = Field(default=20.0, gt=0)
    # Retries of 5xx / timeouts / network errors
    backoff_base: float = Field(default=1.0, gt=0)
    backoff_cap: float = Field(default=60.0, gt=0)
    max_age: float = Field(default=6 * 3600.0, gt=0)  # seconds since enqueue; then failed
    max_retry_after: float = Field(default=3600.0, gt=0)
    # Long texts
    max_parts: int = Field(default=4, ge=1)  # more parts than this: sent as a document
    # Storms
    coalesce_threshold: int | None = None  # None: what the chat's bucket lets out a minute
    digest_edit_interval: float = Field(default=3.0, ge=0)
    digest_quiet: float = Field(default=60.0, gt=0)  # a digest takes items while they keep coming
    digest_max_age: float = Field(default=600.0, gt=0)
    digest_lines: int = Field(default=20, ge=1)
    redis_prefix: str = "qc:delivery"

    def threshold_for(self, chat_id: int) -> int:
        if self.coalesce_threshold is not None:
            return self.coalesce_threshold
        return max(1, int(self.limits.per_minute(chat_id)))
