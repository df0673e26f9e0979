"""Reliable delivery of the outbox: worker, limits, retries, long texts, storm digests.

Build one `DeliveryWorker(pool, redis, sender, clock, config, hooks)` per process and run
it (`await worker.run()`, `await worker.stop()`); features register a `DeliveryHook` per
owner prefix to hear about sent messages, permanent failures and digests.
"""

from services.delivery.config import DeliveryConfig, Limits
from services.delivery.errors import (
    ChatMigrated,
    DeliveryError,
    NotModified,
    PermanentError,
    RetryAfter,
    TransientError,
    classify,
)
from services.delivery.hooks import DeliveryHook, DeliveryHooks
from services.delivery.ratelimit import RateLimiter
from services.delivery.rows import OutboxRow
from services.delivery.sender import Sender
from services.delivery.worker import DeliveryWorker

__all__ = [
    "ChatMigrated",
    "DeliveryConfig",
    "DeliveryError",
    "DeliveryHook",
    "DeliveryHooks",
    "DeliveryWorker",
    "Limits",
    "NotModified",
    "OutboxRow",
    "PermanentError",
    "RateLimiter",
    "RetryAfter",
    "Sender",
    "TransientError",
    "classify",
]
