"""The bot's alert rules as a Prometheus rules file (`quickcart-ops rules export --prometheus`).

A rule is exported when Prometheus has its metric:

- a probe value is on the bot's `/metrics` as `qc_check_value{check, key, target, unit}`; the
  rule's aggregate over its window becomes `*_over_time` (p95/p99: `quantile_over_time`);
- an uptime rule is the share of `qc_check_status` samples (known ones) that were not critical;
- any rule named in RULES_FILE `prometheus.queries` (rule name -> PromQL) uses that query, for
  metrics QuickCart's own Prometheus has (payment counters, log-derived events...).

Anything else (a SQL query against the bot's or QuickCart's database, a log count, "a target
does not answer") has no Prometheus series: it is left out with a comment saying why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml
from pydantic import BaseModel, Field

from services.alerts.config import AlertRule, AlertsRules, ProbeMetric, UptimeMetric
from services.alerts.durations import format_duration

SECTION = "prometheus"
GROUP = "quickcart-ops"
CHECK_VALUE = "qc_check_value"
CHECK_STATUS = "qc_check_status"
CRIT, UNKNOWN = 2, 3  # qc_check_status: 0 ok, 1 warn, 2 crit, 3 unknown


class PrometheusRules(BaseModel):
    """RULES_FILE section `prometheus`: PromQL for rules whose metric Prometheus has by name."""

    queries: dict[str, str] = Field(default_factory=dict)
    group: str = GROUP


@dataclass
class Export:
    rules: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rule, why)


def duration(value: timedelta) -> str:
    return format_duration(value)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(metric: str, **labels: str | None) -> str:
    inside = ",".join(f"{k}={_quote(v)}" for k, v in labels.items() if v is not None)
    return f"{metric}{{{inside}}}"


def probe_expr(metric: ProbeMetric) -> str:
    series = selector(CHECK_VALUE, check=metric.check, key=metric.key, target=metric.target)
    window = duration(metric.window)
    expr = {
        "last": series,
        "avg": f"avg_over_time({series}[{window}])",
        "min": f"min_over_time({series}[{window}])",
        "max": f"max_over_time({series}[{window}])",
        "sum": f"sum_over_time({series}[{window}])",
        "p95": f"quantile_over_time(0.95, {series}[{window}])",
        "p99": f"quantile_over_time(0.99, {series}[{window}])",
    }[metric.aggregate]
    return expr if metric.scale == 1.0 else f"{metric.scale:g} * {expr}"


def uptime_expr(metric: UptimeMetric) -> str:
    status = selector(CHECK_STATUS, check=metric.check)
    known = f"({status} != bool {CRIT}) and {status} != {UNKNOWN}"
    return f"100 * avg_over_time(({known})[{duration(metric.window)}:])"


def expr_of(rule: AlertRule, queries: dict[str, str]) -> str | None:
    named = queries.get(rule.name)
    if named:
        return f"({named.strip()})"
    if isinstance(rule.metric, ProbeMetric):
        return probe_expr(rule.metric)
    if isinstance(rule.metric, UptimeMetric):
        return uptime_expr(rule.metric)
    return None


WHY = {
    "sql": "an SQL query, not a Prometheus series",
    "log": "a log-event count the bot reads from files, not a Prometheus series",
    "unreachable": "the probes' connection errors are not on /metrics",
}


def build(alerts: AlertsRules, prometheus: PrometheusRules) -> Export:
    out = Export()
    for rule in alerts.all_rules():
        expr = expr_of(rule, prometheus.queries)
        if expr is None:
            out.skipped.append((rule.name, WHY.get(rule.metric.kind, "no Prometheus series")))
            continue
        threshold = f"{rule.threshold:g}"
        item: dict[str, Any] = {"alert": rule.name, "expr": f"{expr} {rule.op} {threshold}"}
        if rule.for_ > timedelta():
            item["for"] = duration(rule.for_)
        if rule.keep_firing_for > timedelta():
            item["keep_firing_for"] = duration(rule.keep_firing_for)
        item["labels"] = {**rule.labels, "severity": rule.severity}
        annotations = {}
        if rule.summary:
            annotations["summary"] = _no_template(rule.summary)
        if rule.runbook_url:
            annotations["runbook_url"] = rule.runbook_url
        if annotations:
            item["annotations"] = annotations
        out.rules.append(item)
    return out


def _no_template(text: str) -> str:
    """Prometheus expands annotations as Go templates: a literal `{{` must not start one."""
    return text.replace("{{", "{ {").replace("}}", "} }")


def render(alerts: AlertsRules, prometheus: PrometheusRules, source: str) -> str:
    export = build(alerts, prometheus)
    head = [
        "# Prometheus alerting rules exported by `quickcart-ops rules export --prometheus`",
        f"# from {source}. Probe values are the bot's own /metrics (qc_check_value);",
        "# check with `promtool check rules <file>`.",
    ]
    if export.skipped:
        head.append(
            "# Left out (no Prometheus metric; name a query in RULES_FILE prometheus.queries):"
        )
        head += [f"#   {name}: {why}" for name, why in export.skipped]
    body = yaml.safe_dump(
        {"groups": [{"name": prometheus.group, "rules": export.rules}]},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "\n".join(head) + "\n" + body
