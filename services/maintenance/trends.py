"""Week-on-week figures from the stored check samples (performance analysis, fraud review)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.results import as_json
from services.storage.types import Executor


@dataclass(frozen=True)
class Trend:
    name: str
    this_week: float | None
    last_week: float | None

    @property
    def change(self) -> float | None:
        if self.this_week is None or self.last_week is None:
            return None
        return self.this_week - self.last_week

    def to_json(self) -> dict[str, Any]:
        return as_json(self, change=self.change)


_AGG = """
SELECT percentile_cont($5::float8) WITHIN GROUP (ORDER BY value) AS p,
       avg(value) AS mean
FROM check_samples
WHERE check_name = $1 AND key = $2 AND at >= $3 AND at < $4
"""


async def _agg(
    db: Executor, check: str, key: str, start: datetime, end: datetime, how: str
) -> float | None:
    row = await db.fetchrow(_AGG, check, key, start, end, 0.95)
    value = row["p"] if how == "p95" else row["mean"]
    return None if value is None else float(value)


async def week_on_week(
    db: Executor, name: str, check: str, key: str, now: datetime, how: str = "mean"
) -> Trend:
    week = timedelta(days=7)
    return Trend(
        name,
        await _agg(db, check, key, now - week, now, how),
        await _agg(db, check, key, now - 2 * week, now - week, how),
    )
