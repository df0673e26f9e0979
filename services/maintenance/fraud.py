"""Fraud review (weekly) and the monthly rules review: false-positive rate and manual review
queue trends from QuickCart's database, and the rules whose false-positive rate went up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel

from services.checks.config import DEFAULT_FALSE_POSITIVE_PERIOD_SQL
from services.maintenance.trends import Trend, week_on_week
from services.storage.types import Executor

# The false positives of a period ($1 start, $2 end): the query the reports use by default
# (`checks.fraud.false_positive_period_sql`), so both count them alike.
DEFAULT_RATES_SQL = DEFAULT_FALSE_POSITIVE_PERIOD_SQL
DEFAULT_PER_RULE_SQL = """
SELECT rule,
       count(*) FILTER (WHERE outcome = 'false_positive') AS false_positives,
       count(*) FILTER (WHERE outcome IS NOT NULL) AS reviewed
FROM fraud_reviews
WHERE reviewed_at >= $1 AND reviewed_at < $2
GROUP BY rule
"""


class FraudPolicy(BaseModel):
    """RULES_FILE `maintenance.fraud`. SQL runs read-only on MONITOR_DATABASE_URL."""

    rates_sql: str = DEFAULT_RATES_SQL  # false_positives, reviewed; $1 since, $2 until
    per_rule_sql: str = DEFAULT_PER_RULE_SQL  # rule, false_positives, reviewed
    false_positive_warn_percent: float = 5.0  # seed: false_positive_rate threshold 5 %
    min_reviewed_per_rule: int = 10
    retrain_min_cases: int = 100  # seed: retrain when >= 100 recent cases


@dataclass
class FraudReview:
    days: int
    reviewed: int = 0
    false_positives: int = 0
    previous_reviewed: int = 0
    previous_false_positives: int = 0
    rules_worse: list[dict[str, Any]] = field(default_factory=list)
    queue: Trend | None = None

    @staticmethod
    def _rate(fp: int, n: int) -> float | None:
        return None if n == 0 else fp * 100.0 / n

    @property
    def rate(self) -> float | None:
        return self._rate(self.false_positives, self.reviewed)

    @property
    def previous_rate(self) -> float | None:
        return self._rate(self.previous_false_positives, self.previous_reviewed)

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "reviewed": self.reviewed,
            "false_positives": self.false_positives,
            "false_positive_percent": self.rate,
            "previous_false_positive_percent": self.previous_rate,
            "rules_worse": self.rules_worse,
            "queue": self.queue.to_json() if self.queue else None,
        }


async def review(
    db: Executor, monitor_url: str, now: datetime, days: int, policy: FraudPolicy
) -> FraudReview:
    period = timedelta(days=days)
    result = FraudReview(days=days)
    conn = await asyncpg.connect(
        monitor_url, timeout=10, server_settings={"default_transaction_read_only": "on"}
    )
    try:
        row: Any = await conn.fetchrow(policy.rates_sql, now - period, now)
        result.false_positives, result.reviewed = int(row[0] or 0), int(row[1] or 0)
        row = await conn.fetchrow(policy.rates_sql, now - 2 * period, now - period)
        result.previous_false_positives, result.previous_reviewed = (
            int(row[0] or 0),
            int(row[1] or 0),
        )
        now_rules = {
            r[0]: (int(r[1]), int(r[2]))
            for r in await conn.fetch(policy.per_rule_sql, now - period, now)
        }
        before = {
            r[0]: (int(r[1]), int(r[2]))
            for r in await conn.fetch(policy.per_rule_sql, now - 2 * period, now - period)
        }
    finally:
        await conn.close()
    for rule, (fp, n) in sorted(now_rules.items(), key=lambda i: str(i[0])):
        if n < policy.min_reviewed_per_rule:
            continue
        rate = fp * 100.0 / n
        old_fp, old_n = before.get(rule, (0, 0))
        old_rate = old_fp * 100.0 / old_n if old_n else None
        if old_rate is not None and rate > old_rate:
            result.rules_worse.append(
                {
                    "rule": str(rule),
                    "rate": round(rate, 2),
                    "previous": round(old_rate, 2),
                    "reviewed": n,
                }
            )
    result.queue = await week_on_week(db, "review_queue", "fraud", "review_queue", now)
    return result
