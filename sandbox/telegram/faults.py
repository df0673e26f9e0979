"""Fault injection: server errors for a share of calls, added latency, hanging methods.

Deterministic for a given seed: the n-th eligible call gets the same verdict on every run.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from .config import FaultConfig

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self.injected: Counter[str] = Counter()
        self._released = asyncio.Event()
        self.config = config
        self._random = random.Random(config.seed)
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        if config.seed != self.config.seed:
            self._random = random.Random(config.seed)
        self.config = config
        if config.hang:
            if self._released.is_set():
                self._released = asyncio.Event()
        else:
            self._released.set()

    def applies_to(self, method: str) -> bool:
        methods = self.config.methods
        return methods is None or method.lower() in methods

    async def before_call(self, method: str) -> tuple[int, str] | None:
        """Wait as configured; return (status, description) when this call must fail."""
        if not self.applies_to(method):
            return None
        while self.config.hang and self.applies_to(method):
            released = self._released
            await released.wait()
        if self.config.latency > 0:
            await asyncio.sleep(self.config.latency)
        if self.config.error_rate > 0 and self._random.random() < self.config.error_rate:
            status = self.config.error_status
            self.injected[method.lower()] += 1
            return status, _REASONS.get(status, "Internal Server Error")
        return None
