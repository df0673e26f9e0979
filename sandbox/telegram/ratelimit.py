"""Telegram-like flood control.

Counted: the sending methods (``SENDING_METHODS``). A private chat has a token bucket
(``private_per_second`` with a small burst); a group or supergroup takes at most
``group_per_minute`` sends in any rolling ``group_window`` seconds (Telegram's "20 messages
a minute to one group", read strictly: no burst on top); every send also takes a token from
the bot-wide bucket (``global_per_second``). Edits, deletes, callback answers and chat actions
are not counted: Telegram is lenient with them and a bot that edits a status message should
not be punished in tests. A refused send consumes nothing and answers 429 with
``retry_after`` = whole seconds until it would be allowed. Every allowed group send is logged
(``group_sends``) so a test or bench can check the window after the fact.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
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
        self._windows: dict[int, deque[float]] = {}
        self._global: _Bucket | None = None
        self.refused: Counter[int] = Counter()
        self.group_sends: dict[int, list[float]] = {}
        self.group_edits: dict[int, list[float]] = {}  # not limited: logged for benches

    def reconfigure(self, config: LimitConfig) -> None:
        self.config = config
        self._chats.clear()
        self._windows.clear()
        self._global = None

    def reset(self) -> None:
        self._chats.clear()
        self._windows.clear()
        self._global = None
        self.refused.clear()
        self.group_sends.clear()
        self.group_edits.clear()

    def note_group_edit(self, chat_id: int) -> None:
        self.group_edits.setdefault(chat_id, []).append(self.clock())

    def _bucket_for(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            c = self.config
            bucket = _Bucket(c.private_burst, c.private_per_second, c.private_burst, now)
            self._chats[chat_id] = bucket
        return bucket

    def _group_wait(self, chat_id: int, now: float) -> float:
        window = self._windows.setdefault(chat_id, deque())
        span = self.config.group_window
        while window and window[0] <= now - span:
            window.popleft()
        allowed = max(1, int(self.config.group_per_minute))
        if len(window) < allowed:
            return 0.0
        return window[len(window) - allowed] + span - now

    def acquire(self, chat_id: int, is_group: bool) -> int:
        """Take a send token; 0 when allowed, else the retry_after seconds (nothing taken)."""
        if not self.config.enabled:
            if is_group:
                self.group_sends.setdefault(chat_id, []).append(self.clock())
            return 0
        now = self.clock()
        if self._global is None:
            c = self.config
            self._global = _Bucket(c.global_burst, c.global_per_second, c.global_burst, now)
        self._global.refill(now)
        if is_group:
            wait = self._group_wait(chat_id, now)
        else:
            chat = self._bucket_for(chat_id, now)
            chat.refill(now)
            wait = chat.wait_time()
        wait = max(wait, self._global.wait_time())
        if wait > 0:
            self.refused[chat_id] += 1
            return max(1, math.ceil(wait))
        if is_group:
            self._windows[chat_id].append(now)
            self.group_sends.setdefault(chat_id, []).append(now)
        else:
            self._chats[chat_id].tokens -= 1
        self._global.tokens -= 1
        return 0


def most_in_window(times: list[float], span: float = 60.0) -> int:
    """The largest number of `times` inside any rolling `span` seconds."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= span:
            start += 1
        most = max(most, end - start + 1)
    return most
