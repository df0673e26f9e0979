"""RULES_FILE section `alerts`: the rules, grouping, chats and secondary channels.

The defaults are the maintenance plan's thresholds: every `alert` value of CRITICAL_METRICS
and the three rules of `AlertManager.configure_alerts` (CPU > 80 % for 5 minutes, payment
success < 90 % for 1 minute, 5 `fraud_detected` events in 5 minutes).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from services.alerts.durations import parse_duration


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value) if value.strip() not in ("0", "0s") else timedelta()
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]

Comparison = Literal[">", ">=", "<", "<=", "==", "!="]
COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
Severity = Literal["critical", "warning", "info"]
Aggregate = Literal["last", "avg", "min", "max", "sum", "p95", "p99"]


class ProbeMetric(BaseModel):
    """A value stored by the health checks (table check_samples): `check`.`key` per target."""

    kind: Literal["probe"] = "probe"
    check: str
    key: str
    target: str | None = None  # None: every target, each its own alert (label `target`)
    aggregate: Aggregate = "last"
    window: Duration = timedelta(minutes=15)  # how far back samples count
    scale: float = 1.0  # e.g. 100 to turn an average of 0/1 "up" samples into a percentage


class UptimeMetric(BaseModel):
    """Percentage of stored results of a check that were not critical, over `window`."""

    kind: Literal["uptime"] = "uptime"
    check: str
    window: Duration = timedelta(days=30)


class SqlMetric(BaseModel):
    """A read-only query whose `value` column is the metric; other columns become labels.

    `$1` is the evaluation time. `database`: the bot's own ("own") or QuickCart's ("monitor")."""

    kind: Literal["sql"] = "sql"
    query: str
    database: Literal["own", "monitor"] = "own"
    timeout_s: float = 5.0


class LogMetric(BaseModel):
    """Events counted by log analysis (table log_counts) over `window`: a count, or a percentage
    of all lines when `per_lines`."""

    kind: Literal["log"] = "log"
    event: Literal["error", "fraud", "security", "line"]
    window: Duration = timedelta(minutes=5)
    per_lines: bool = False


Metric = Annotated[ProbeMetric | UptimeMetric | SqlMetric | LogMetric, Field(discriminator="kind")]


class AlertRule(BaseModel):
    name: str  # becomes the label alertname
    metric: Metric
    op: Comparison
    threshold: float
    for_: Duration = Field(default=timedelta(), alias="for")
    keep_firing_for: Duration = timedelta()
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str = ""  # shown as "what"; plain text, escaped when rendered
    runbook_url: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["telegram"])
    group_by: list[str] | None = None  # None: the section's group_by
    unit: str = ""
    enabled: bool = True

    model_config = {"populate_by_name": True}


_DELIVERY_RATE_SQL = """
SELECT 100.0 * count(*) FILTER (WHERE status = 'sent') / count(*) AS value
FROM outbox
WHERE status IN ('sent', 'failed') AND created_at > $1 - interval '1 hour'
HAVING count(*) >= 20
"""


def _rule(name: str, metric: dict[str, Any], op: str, threshold: float, **more: Any) -> AlertRule:
    return AlertRule.model_validate(
        {"name": name, "metric": metric, "op": op, "threshold": threshold, **more}
    )


def default_rules() -> list[AlertRule]:
    """CRITICAL_METRICS (`alert` column) and configure_alerts, as rules."""
    slack_tg = ["telegram", "slack"]
    payment_channels = ["telegram", "slack", "email", "sms"]
    return [
        # configure_alerts: system.cpu_usage > 80 for 300 s -> slack, telegram
        _rule(
            "CpuHigh",
            {"kind": "probe", "check": "system", "key": "cpu_percent"},
            ">",
            80,
            **{"for": "5m"},
            severity="warning",
            channels=slack_tg,
            unit="%",
            summary="CPU usage above 80 % for 5 minutes",
        ),
        # configure_alerts: payment.success_rate < 90 for 60 s -> slack, telegram, email, sms
        _rule(
            "PaymentSuccessRateLow",
            {"kind": "probe", "check": "payment", "key": "success_rate_percent"},
            "<",
            90,
            **{"for": "1m"},
            severity="critical",
            channels=payment_channels,
            unit="%",
            summary="Payment success rate below 90 %",
        ),
        # configure_alerts: 5 fraud_detected log events in 300 s -> security_team, management
        _rule(
            "FraudDetectedBurst",
            {"kind": "log", "event": "fraud", "window": "5m"},
            ">=",
            5,
            severity="critical",
            channels=["telegram", "security_team", "management"],
            summary="5 or more fraud_detected events in 5 minutes",
        ),
        # CRITICAL_METRICS.system_health
        _rule(
            "UptimeLow",
            {"kind": "uptime", "check": "bot", "window": "30d"},
            "<",
            99.0,
            severity="critical",
            unit="%",
            summary="Uptime below 99.0 %",
        ),
        _rule(
            "ResponseTimeP95High",
            {
                "kind": "probe",
                "check": "payment",
                "key": "gateway_latency_seconds",
                "aggregate": "p95",
                "window": "1h",
            },
            ">",
            5.0,
            **{"for": "5m"},
            severity="warning",
            unit="s",
            summary="p95 response time above 5 seconds",
        ),
        _rule(
            "ErrorRateHigh",
            {"kind": "log", "event": "error", "window": "5m", "per_lines": True},
            ">",
            5.0,
            **{"for": "5m"},
            severity="warning",
            unit="%",
            summary="Error rate above 5 %",
        ),
        # CRITICAL_METRICS.payment_system
        _rule(
            "PakasirUptimeLow",
            {
                "kind": "probe",
                "check": "payment",
                "key": "gateway_up",
                "aggregate": "avg",
                "window": "30d",
                "scale": 100,
            },
            "<",
            95.0,
            severity="critical",
            channels=payment_channels,
            unit="%",
            summary="Pakasir API uptime below 95 %",
        ),
        _rule(
            "PaymentTimeHigh",
            {"kind": "probe", "check": "payment", "key": "avg_payment_seconds"},
            ">",
            60.0,
            **{"for": "5m"},
            severity="warning",
            unit="s",
            summary="Average payment time above 60 seconds",
        ),
        # CRITICAL_METRICS.fraud_detection
        _rule(
            "FraudDetectionRateLow",
            {"kind": "probe", "check": "fraud", "key": "detection_rate_percent"},
            "<",
            90.0,
            **{"for": "15m"},
            severity="warning",
            channels=["telegram", "security_team"],
            unit="%",
            summary="Fraud detection rate below 90 %",
        ),
        _rule(
            "FalsePositiveRateHigh",
            {"kind": "probe", "check": "fraud", "key": "false_positive_percent"},
            ">",
            10.0,
            **{"for": "15m"},
            severity="warning",
            unit="%",
            summary="Fraud false positive rate above 10 %",
        ),
        _rule(
            "ManualReviewQueueLong",
            {"kind": "probe", "check": "fraud", "key": "review_queue"},
            ">",
            100,
            **{"for": "15m"},
            severity="warning",
            summary="More than 100 items in manual review",
        ),
        # CRITICAL_METRICS.user_experience
        _rule(
            "TelegramDeliveryLow",
            {"kind": "sql", "query": _DELIVERY_RATE_SQL},
            "<",
            95.0,
            **{"for": "5m"},
            severity="warning",
            channels=["telegram", "email"],
            unit="%",
            summary="Telegram message delivery below 95 % over the last hour",
        ),
        _rule(
            "SessionSuccessRateLow",
            {"kind": "probe", "check": "redis", "key": "session_success_rate_percent"},
            "<",
            95.0,
            **{"for": "15m"},
            severity="warning",
            unit="%",
            summary="Session success rate below 95 %",
        ),
        _rule(
            "UserComplaintRateHigh",
            {"kind": "probe", "check": "bot", "key": "complaint_rate_percent"},
            ">",
            0.5,
            **{"for": "1h"},
            severity="info",
            unit="%",
            summary="User complaint rate above 0.5 %",
        ),
    ]


class GroupingRules(BaseModel):
    group_by: list[str] = Field(default_factory=lambda: ["alertname"])
    group_wait: Duration = timedelta(seconds=30)
    group_interval: Duration = timedelta(minutes=5)
    repeat_interval: Duration = timedelta(hours=4)


class EmailChannel(BaseModel):
    host: str
    port: int = 25
    sender: str = "quickcart-ops@localhost"
    recipients: list[str] = Field(default_factory=list)
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


class SlackChannel(BaseModel):
    webhook_url: str
    timeout_s: float = 10.0


class SmsChannel(BaseModel):
    """A generic HTTP webhook: POST {"to": [...], "text": ...} with optional headers."""

    url: str
    recipients: list[str] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = 10.0


class SecondaryChannels(BaseModel):
    email: EmailChannel | None = None
    slack: SlackChannel | None = None
    sms: SmsChannel | None = None


class AlertsRules(BaseModel):
    rules: list[AlertRule] = Field(default_factory=default_rules)
    extra_rules: list[AlertRule] = Field(default_factory=list)  # added to the defaults
    grouping: GroupingRules = Field(default_factory=GroupingRules)
    # notification group name (a rule's channel) -> Telegram chat id; the admin chat always gets it
    telegram_chats: dict[str, int] = Field(default_factory=dict)
    channels: SecondaryChannels = Field(default_factory=SecondaryChannels)
    alertmanager_channels: list[str] = Field(default_factory=lambda: ["telegram"])
    # severities mapped to P0: unacknowledged at repeat time, they open an incident
    p0_severities: list[str] = Field(default_factory=lambda: ["critical"])
    evaluation_timeout_s: float = 10.0

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsRules:
        names = [r.name for r in self.all_rules()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {', '.join(duplicates)}")
        return self

    def all_rules(self) -> list[AlertRule]:
        return [r for r in [*self.rules, *self.extra_rules] if r.enabled]

    def rule(self, name: str) -> AlertRule | None:
        return next((r for r in self.all_rules() if r.name == name), None)


SECTION = "alerts"
