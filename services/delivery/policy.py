"""Retry policy: small, pure decisions the worker makes after a failed send."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from services.delivery.config import DeliveryConfig


def backoff_delay(
    attempts: int, config: DeliveryConfig, rand: random.Random | None = None
) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, then 50..100 % of it."""
    exponent = max(0, attempts - 1)
    growth: float = 2.0 ** min(exponent, 32)
    ceiling: float = min(config.backoff_cap, config.backoff_base * growth)
    jitter: float = (rand or random.Random()).random()
    return ceiling * (0.5 + 0.5 * jitter)


def too_old(created_at: datetime, now: datetime, config: DeliveryConfig) -> bool:
    """A row still failing this long after it was enqueued is given up on."""
    return now - created_at >= timedelta(seconds=config.max_age)


def retry_after_delay(seconds: float, config: DeliveryConfig) -> float:
    """Telegram's retry_after, bounded so a bogus answer cannot park a chat for days."""
    return min(max(seconds, 0.0), config.max_retry_after)
