"""A heartbeat for a test, with what the test does not care about filled in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.heartbeats.model import Heartbeat


def heartbeat(**fields: Any) -> Heartbeat:
    """`job` (id 1, ping key `k`) in UTC with 10 minutes' grace: a simple check every hour, or
    a cron check when `schedule` is given. `fields` set any of the heartbeat's fields."""
    kind = fields.setdefault("kind", "cron" if "schedule" in fields else "simple")
    defaults: dict[str, Any] = {
        "id": 1,
        "name": "job",
        "ping_key": "k",
        "grace": timedelta(minutes=10),
        "tz": "UTC",
        "period": timedelta(hours=1) if kind == "simple" else None,
    }
    return Heartbeat(**{**defaults, **fields})
