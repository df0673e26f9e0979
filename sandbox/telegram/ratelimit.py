"""Telegram-like flood control with token buckets.

Counted: the sending methods (``SENDING_METHODS``), one token each from the chat's bucket
(private chats: ``private_per_second`` with a small burst; groups and supergroups:
``group_per_minute``) and from the bot-wide bucket (``global_per_second``). Edits, deletes,
callback answers and chat actions are not counted: Telegram is lenient with them and a bot
that edits a status message should not be punished in tests. A refused send consumes
nothing and answers 429 with ``retry_after`` = whole seconds until the bucket has a token.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .config import LimitConfig

SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "copymessage",
        "forwardmessage",
        "sendmediagroup",
        "sendaudio",
        "sendvideo",
        "sendvoice",
        "sendsticker",
        "sendanimation",
        "sendlocation",
        "sendpoll",
    }
)


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    def __init__(self, config: LimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._chats: dict[int, _Bucket] = {}
        self._global: _Bucket | None = None
        self.refused: Counter[int] = Counter()

    def reconfigure(self, config: LimitConfig) -> None:
        self.config = config
        self._chats.clear()
        self._global = None

    def reset(self) -> None:
        self._chats.clear()
        self._global = None
        self.refused.clear()

    def _bucket_for(self, chat_id: int, is_group: bool, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            c = self.config
            if is_group:
                bucket = _Bucket(c.group_burst, c.group_per_minute / 60, c.group_burst, now)
            else:
                bucket = _Bucket(c.private_burst, c.private_per_second, c.private_burst, now)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int, is_group: bool) -> int:
        """Take a send token; 0 when allowed, else the retry_after seconds (nothing taken)."""
        if not self.config.enabled:
            return 0
        now = self.clock()
        if self._global is None:
            c = self.config
            self._global = _Bucket(c.global_burst, c.global_per_second, c.global_burst, now)
        chat = self._bucket_for(chat_id, is_group, now)
        chat.refill(now)
        self._global.refill(now)
        wait = max(chat.wait_time(), self._global.wait_time())
        if wait > 0:
            self.refused[chat_id] += 1
            return max(1, math.ceil(wait))
        chat.tokens -= 1
        self._global.tokens -= 1
        return 0
