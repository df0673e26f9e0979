"""RULES_FILE section `alerts`: the rules, grouping, chats and secondary channels.

The default rules are data, in `default_rules.yaml` next to this module: the maintenance plan's
thresholds (every `alert` value of CRITICAL_METRICS and the three rules of
`AlertManager.configure_alerts`) and a rule for every finding a health check reports as critical.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from services.alerts.durations import Duration
from services.alerts.evaluation import group_key
from services.alerts.inhibition import InhibitRule, InhibitRuleConfig, default_inhibit_rules
from services.alerts.packaged import packaged_list
from services.alerts.routing import ReceiverConfig, Route, RouteConfig, build, group_spec

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


class UnreachableMetric(BaseModel):
    """1 when the newest stored result of a check within `window` is critical because the check
    could not measure at all (its target refused, dropped or never answered: the result carries
    an error), 0 when it measured. One series per check (label `check`) unless `check` is set."""

    kind: Literal["unreachable"] = "unreachable"
    check: str | None = None
    window: Duration = timedelta(minutes=5)


Metric = Annotated[
    ProbeMetric | UptimeMetric | SqlMetric | LogMetric | UnreachableMetric,
    Field(discriminator="kind"),
]


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


DEFAULT_RULES_FILE = "default_rules.yaml"


def default_rules() -> list[AlertRule]:
    """The plan's thresholds and one rule for every critical finding of a probe, as rules."""
    return packaged_list(AlertRule, DEFAULT_RULES_FILE, "rules")


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
    # Alertmanager's routing tree and inhibition (services/alerts/routing.py, inhibition.py);
    # without `route` every alert goes to the admin chat and its rule's channels.
    route: RouteConfig | None = None
    receivers: list[ReceiverConfig] = Field(default_factory=list)
    inhibit_rules: list[InhibitRuleConfig] = Field(default_factory=default_inhibit_rules)
    _tree: Route | None = PrivateAttr(default=None)
    _inhibitions: tuple[InhibitRule, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsRules:
        names = [r.name for r in self.all_rules()]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _routing(self) -> AlertsRules:
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            raise ValueError("receiver names must be unique")
        for receiver in self.receivers:
            for chat in receiver.chats:
                if isinstance(chat, str) and chat not in (*CHAT_NAMES, *self.telegram_chats):
                    raise ValueError(
                        f"receiver {receiver.name}: chat {chat!r} is neither admin, support,"
                        " security, a name of telegram_chats nor a chat id"
                    )
        if self.route is not None:
            g = self.grouping
            defaults = (tuple(g.group_by), g.group_wait, g.group_interval, g.repeat_interval)
            self._tree = build(self.route, defaults, set(names))
        elif self.receivers:
            raise ValueError("receivers need a route that names them")
        self._inhibitions = tuple(r.compiled() for r in self.inhibit_rules)
        return self

    @property
    def tree(self) -> Route | None:
        """The routing tree, None when RULES_FILE has no `alerts.route`."""
        return self._tree

    @property
    def inhibitions(self) -> tuple[InhibitRule, ...]:
        return self._inhibitions

    def receiver(self, name: str) -> ReceiverConfig | None:
        return next((r for r in self.receivers if r.name == name), None)

    def group_for(
        self,
        alertname: str,
        labels: Mapping[str, str],
        severity: str,
        channels: list[str],
        group_by: list[str],
    ) -> dict[str, Any]:
        """The group an alert that starts firing joins (`store.open_groups`' shape): the
        routing tree's when there is one, else by `group_by` with the rule's `channels`."""
        if self._tree is not None:
            named = {r.name: r for r in self.receivers}
            return group_spec(self._tree, named, alertname, labels, severity)
        return {
            "key": group_key(alertname, labels, group_by),
            "labels": {**{k: labels.get(k, "") for k in group_by}, "alertname": alertname},
            "severity": severity,
            "channels": channels,
        }

    def all_rules(self) -> list[AlertRule]:
        return [r for r in [*self.rules, *self.extra_rules] if r.enabled]

    def rule(self, name: str) -> AlertRule | None:
        return next((r for r in self.all_rules() if r.name == name), None)


CHAT_NAMES = ("admin", "support", "security")
SECTION = "alerts"
