"""What the benchmarks set up alike: the bot's log cut down to errors (so the figures are
readable), and delivery limits high enough that they never hold a message back."""

from __future__ import annotations

import sys
from typing import Any

from loguru import logger

# The delivery worker's pacing opened up, for a run that measures the bot's own handling, not
# Telegram's numbers (the rules file's `delivery.limits`, or `Limits(**UNLIMITED)`).
UNLIMITED: dict[str, Any] = {
    "private_per_second": 1e6,
    "private_burst": 100000,
    "group_per_minute": 1e9,
    "global_per_second": 1e6,
    "global_burst": 100000,
}


def errors_only() -> None:
    """The bot's log on stderr, errors only: a benchmark prints its own figures."""
    logger.remove()
    logger.add(sys.stderr, level="ERROR")
