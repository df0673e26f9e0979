"""The seed's monthly `fraud_model_update`: per fraud rule, what the last 30 days of QuickCart's
fraud reviews say, against the 30 days before; rules over the false-positive target get a
score threshold suggested from the data; enough new labelled cases start the retraining.

Definitions (one review is one alert a rule raised):

- alerts: reviews the rule raised in the window; labelled: those with an outcome;
- confirmed: outcome `confirmed_fraud`; false positives: outcome `false_positive`;
- precision: confirmed / labelled (how many reviewed alerts were real fraud);
- false-positive rate: false positives / labelled, as the fraud probe counts it (seed:
  `false_positive_rate` threshold 5 %).

The suggested threshold is the lowest score at which the rule's labelled alerts at or above it
stay within the target, with how much of the confirmed fraud it still catches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from services.results import as_json

DEFAULT_CASES_SQL = """
SELECT rule, score, outcome, created_at, reviewed_at
FROM fraud_reviews
WHERE created_at >= $1 AND created_at < $2
"""


class FraudModelPolicy(BaseModel):
    """RULES_FILE `fraud_model`. The SQL runs read-only on MONITOR_DATABASE_URL; $1 since,
    $2 until; columns rule, score, outcome (NULL while pending), created_at, reviewed_at."""

    cases_sql: str = DEFAULT_CASES_SQL
    window_days: int = Field(default=30, ge=1)  # seed: get_recent_fraud_cases(days=30)
    false_positive_target_percent: float = 5.0  # seed: false_positive_rate threshold 5 %
    min_labelled_for_suggestion: int = Field(default=10, ge=1)
    retrain_min_cases: int = Field(default=100, ge=1)  # seed: len(recent_cases) >= 100
    retrain_timeout_s: float = Field(default=1800.0, gt=0)
    confirmed_outcomes: list[str] = Field(default_factory=lambda: ["confirmed_fraud"])
    false_positive_outcomes: list[str] = Field(default_factory=lambda: ["false_positive"])


@dataclass(frozen=True)
class Case:
    rule: str
    score: float | None
    outcome: str | None
    created_at: datetime
    reviewed_at: datetime | None = None


@dataclass(frozen=True)
class Suggestion:
    threshold: float
    false_positive_percent: float
    fraud_kept_percent: float  # of the confirmed fraud, what the new threshold still catches
    alerts_kept: int

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "false_positive_percent": round(self.false_positive_percent, 2),
            "fraud_kept_percent": round(self.fraud_kept_percent, 2),
            "alerts_kept": self.alerts_kept,
        }


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    alerts: int
    labelled: int
    confirmed: int
    false_positives: int

    @property
    def precision(self) -> float | None:
        return None if self.labelled == 0 else self.confirmed * 100.0 / self.labelled

    @property
    def false_positive_rate(self) -> float | None:
        return None if self.labelled == 0 else self.false_positives * 100.0 / self.labelled


@dataclass(frozen=True)
class RuleReport:
    now: RuleFigures
    before: RuleFigures | None
    over_target: bool
    suggestion: Suggestion | None

    @property
    def precision_change(self) -> float | None:
        if self.before is None or self.before.precision is None or self.now.precision is None:
            return None
        return self.now.precision - self.before.precision

    @property
    def false_positive_change(self) -> float | None:
        old = self.before.false_positive_rate if self.before else None
        new = self.now.false_positive_rate
        return None if old is None or new is None else new - old

    def to_json(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "rule": self.now.rule,
            "alerts": self.now.alerts,
            "labelled": self.now.labelled,
            "confirmed": self.now.confirmed,
            "false_positives": self.now.false_positives,
            "precision": r(self.now.precision),
            "false_positive_percent": r(self.now.false_positive_rate),
            "previous_alerts": self.before.alerts if self.before else None,
            "previous_precision": r(self.before.precision) if self.before else None,
            "previous_false_positive_percent": r(self.before.false_positive_rate)
            if self.before
            else None,
            "precision_change": r(self.precision_change),
            "false_positive_change": r(self.false_positive_change),
            "over_target": self.over_target,
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
        }


@dataclass
class ModelReport:
    since: datetime
    until: datetime
    rules: list[RuleReport] = field(default_factory=list)
    labelled: int = 0
    new_labelled: int = 0  # labelled since the last retraining (or in the window, if none)
    retrain: dict[str, Any] | None = None

    @property
    def flagged(self) -> list[RuleReport]:
        return [r for r in self.rules if r.over_target]

    def to_json(self) -> dict[str, Any]:
        return as_json(
            self,
            since=self.since.isoformat(),
            until=self.until.isoformat(),
            flagged=[r.now.rule for r in self.flagged],
        )


def figures(rule: str, cases: Iterable[Case], policy: FraudModelPolicy) -> RuleFigures:
    listed = list(cases)
    labelled = [c for c in listed if c.outcome is not None]
    return RuleFigures(
        rule=rule,
        alerts=len(listed),
        labelled=len(labelled),
        confirmed=sum(1 for c in labelled if c.outcome in policy.confirmed_outcomes),
        false_positives=sum(1 for c in labelled if c.outcome in policy.false_positive_outcomes),
    )


def suggest_threshold(cases: Sequence[Case], policy: FraudModelPolicy) -> Suggestion | None:
    """The lowest score threshold whose labelled alerts at or above it keep the false-positive
    rate within target; None when no threshold does, or too few labelled scored cases."""
    scored = [c for c in cases if c.outcome is not None and c.score is not None]
    if len(scored) < policy.min_labelled_for_suggestion:
        return None
    fraud_total = sum(1 for c in scored if c.outcome in policy.confirmed_outcomes)
    for threshold in sorted({c.score for c in scored if c.score is not None}):
        kept = [c for c in scored if c.score is not None and c.score >= threshold]
        if len(kept) < policy.min_labelled_for_suggestion:
            return None
        fp = sum(1 for c in kept if c.outcome in policy.false_positive_outcomes)
        rate = fp * 100.0 / len(kept)
        if rate <= policy.false_positive_target_percent:
            fraud = sum(1 for c in kept if c.outcome in policy.confirmed_outcomes)
            return Suggestion(
                threshold=threshold,
                false_positive_percent=rate,
                fraud_kept_percent=100.0 if fraud_total == 0 else fraud * 100.0 / fraud_total,
                alerts_kept=len(kept),
            )
    return None


def analyse(
    cases: Sequence[Case],
    previous: Sequence[Case],
    policy: FraudModelPolicy,
    since: datetime,
    until: datetime,
) -> ModelReport:
    """Pure: the month's cases and the month before's in, the per-rule report out."""
    by_rule: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_rule[case.rule].append(case)
    before_by_rule: dict[str, list[Case]] = defaultdict(list)
    for case in previous:
        before_by_rule[case.rule].append(case)
    report = ModelReport(since=since, until=until)
    for rule in sorted(set(by_rule) | set(before_by_rule)):
        now = figures(rule, by_rule.get(rule, []), policy)
        before = figures(rule, before_by_rule[rule], policy) if rule in before_by_rule else None
        rate = now.false_positive_rate
        over = rate is not None and rate > policy.false_positive_target_percent
        suggestion = suggest_threshold(by_rule.get(rule, []), policy) if over else None
        report.rules.append(RuleReport(now, before, over, suggestion))
    report.labelled = sum(r.now.labelled for r in report.rules)
    return report


def count_new_labelled(cases: Sequence[Case], after: datetime | None) -> int:
    """Labelled cases reviewed after the last retraining (all labelled ones if there was none)."""
    return sum(
        1
        for c in cases
        if c.outcome is not None
        and (after is None or (c.reviewed_at is not None and c.reviewed_at > after))
    )


def _case(row: Any) -> Case:
    score = row[1]
    return Case(
        rule=str(row[0]),
        score=float(score) if isinstance(score, (int, float, Decimal)) else None,
        outcome=row[2],
        created_at=row[3],
        reviewed_at=row[4] if len(row) > 4 else None,
    )


async def fetch_cases(
    monitor_url: str, policy: FraudModelPolicy, now: datetime
) -> tuple[list[Case], list[Case]]:
    """This window's cases and the previous window's, read-only from QuickCart's database."""
    period = timedelta(days=policy.window_days)
    conn = await asyncpg.connect(
        monitor_url, timeout=10, server_settings={"default_transaction_read_only": "on"}
    )
    try:
        current = [_case(r) for r in await conn.fetch(policy.cases_sql, now - period, now)]
        previous = [
            _case(r) for r in await conn.fetch(policy.cases_sql, now - 2 * period, now - period)
        ]
    finally:
        await conn.close()
    return current, previous
