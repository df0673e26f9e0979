"""Statuses combine like a Nagios aggregator; numbers read like people write them."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.checks.config import ChecksRules, resolve_name
from services.checks.metrics import CheckMetrics
from services.checks.model import CheckReport, CheckResult, Sentence, Status, Unit, Value, worst
from services.checks.runner import redact
from services.checks.units import fmt_bytes, fmt_duration

from .test_render import AT


@pytest.mark.parametrize(
    ("statuses", "expected", "code"),
    [
        ([], Status.OK, 0),
        ([Status.OK, Status.OK], Status.OK, 0),
        ([Status.OK, Status.UNKNOWN], Status.UNKNOWN, 3),
        ([Status.UNKNOWN, Status.WARN], Status.WARN, 1),
        ([Status.WARN, Status.CRIT, Status.UNKNOWN], Status.CRIT, 2),
    ],
)
def test_the_worst_status_wins(statuses, expected, code):
    assert worst(statuses) is expected
    assert worst(statuses).exit_code == code


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250 ms"),
        (12, "12 s"),
        (90.5, "90.5 s"),
        (600, "10 min"),
        (30 * 3600, "30.0 h"),
        (3 * 86400, "3.0 d"),
    ],
)
def test_durations(seconds, text):
    assert fmt_duration(seconds) == text


def test_bytes():
    assert [fmt_bytes(n) for n in (10, 2048, 5 * 1024**3)] == ["10 B", "2.0 KiB", "5.0 GiB"]


@pytest.mark.parametrize(
    ("name", "check"),
    [("db", "database"), ("Payment", "payment"), ("cache", "redis"), ("nope", None)],
)
def test_names_and_aliases(name, check):
    assert resolve_name(name) == check


def test_rules_default_to_the_seed_and_every_timeout_fits_the_budget():
    rules = ChecksRules()
    assert rules.payment.success_crit_percent == 90 and rules.payment.avg_time_s.crit == 60
    assert rules.fraud.queue.crit == 100 and rules.fraud.false_positive_percent.crit == 10
    assert rules.system.cpu_percent.warn == 80 and rules.backups.max_age_hours == 26
    assert all(rules.timeout_for(n) <= rules.budget_s for n in ("system", "database", "payment"))


def test_secrets_and_url_passwords_are_redacted():
    text = redact("GET https://x/api?api_key=k3y failed; postgresql://u:hunter2@db/q", ["k3y"])
    assert text == "GET https://x/api?api_key=*** failed; postgresql://u:***@db/q"


def test_metrics_export_values_and_drop_stale_series():
    registry = CollectorRegistry()
    metrics = CheckMetrics(registry)

    def report(*values):
        r = CheckResult("system", Status.WARN, Sentence("x"), tuple(values), (), AT, 0.5)
        return CheckReport(AT, 0.5, (r,))

    metrics.export(
        report(
            Value("disk_percent", 91, Unit.PERCENT, "/"),
            Value("disk_percent", 10, Unit.PERCENT, "/data"),
        )
    )
    labels = {"check": "system", "key": "disk_percent", "target": "/data", "unit": "percent"}
    assert registry.get_sample_value("qc_check_value", labels) == 10
    assert registry.get_sample_value("qc_check_status", {"check": "system"}) == 1
    metrics.export(report(Value("disk_percent", 92, Unit.PERCENT, "/")))
    assert registry.get_sample_value("qc_check_value", labels) is None
