"""Prometheus alert states with `for`, step by step on a controllable clock."""

from __future__ import annotations

from datetime import timedelta

from services.alerts.config import AlertsRules, LogMetric, ProbeMetric, SqlMetric
from services.alerts.evaluation import AlertState, fingerprint, group_key, holds, step
from services.clock import FrozenClock

FIVE_MIN = timedelta(minutes=5)


def run(values: list[bool | None], for_: timedelta = FIVE_MIN, every: float = 1.0) -> list[str]:
    """Evaluate once a minute (by default); return the state after each evaluation."""
    clock = FrozenClock()
    state = AlertState()
    seen: list[str] = []
    for value in values:
        state = step(state, value, clock.now(), for_).state
        seen.append(state.state)
        clock.advance(minutes=every)
    return seen


def test_it_waits_out_for_before_firing_then_resolves() -> None:
    states = run([True] * 6 + [False])
    assert states == ["pending"] * 5 + ["firing", "resolved"]


def test_a_flapping_value_never_fires() -> None:
    states = run([True, True, False, True, True, True, False, True] * 3)
    assert "firing" not in states
    assert set(states) == {"pending", "inactive"}


def test_for_zero_fires_at_once() -> None:
    assert run([True, True, False], for_=timedelta()) == ["firing", "firing", "resolved"]


def test_no_data_keeps_the_state() -> None:
    assert run([True] * 6 + [None, None, False]) == (
        ["pending"] * 5 + ["firing", "firing", "firing", "resolved"]
    )


def test_pending_keeps_its_start_and_firing_its_time() -> None:
    clock = FrozenClock()
    start = clock.now()
    state = step(AlertState(), True, start, FIVE_MIN).state
    later = step(state, True, clock.advance(minutes=5), FIVE_MIN)
    assert later.went_firing
    assert later.state.active_since == start
    assert later.state.fired_at == clock.now()


def test_keep_firing_for_holds_a_brief_dip() -> None:
    clock = FrozenClock()
    state = step(AlertState(), True, clock.now(), timedelta()).state
    dip = step(state, False, clock.advance(minutes=1), timedelta(), timedelta(minutes=2))
    assert dip.state.state == "firing"
    gone = step(dip.state, False, clock.advance(minutes=2), timedelta(), timedelta(minutes=2))
    assert gone.state.state == "resolved"


def test_fingerprints_ignore_label_order_and_group_keys_use_group_by() -> None:
    a = {"alertname": "CpuHigh", "instance": "web-1"}
    b = {"instance": "web-1", "alertname": "CpuHigh"}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "instance": "web-2"})
    assert group_key("CpuHigh", a, ["alertname"]) == group_key("CpuHigh", {}, ["alertname"])
    assert group_key("CpuHigh", a, ["instance"]) != group_key(
        "CpuHigh", {"instance": "web-2"}, ["instance"]
    )


def test_comparisons() -> None:
    assert holds(81, ">", 80) and not holds(80, ">", 80) and holds(80, ">=", 80)
    assert holds(89.9, "<", 90) and not holds(90, "<", 90)


def test_defaults_carry_the_seed_thresholds() -> None:
    rules = {r.name: r for r in AlertsRules().all_rules()}
    cpu = rules["CpuHigh"]
    assert (cpu.op, cpu.threshold, cpu.for_) == (">", 80, timedelta(minutes=5))
    assert isinstance(cpu.metric, ProbeMetric) and cpu.metric.key == "cpu_percent"
    assert set(cpu.channels) == {"slack", "telegram"}
    pay = rules["PaymentSuccessRateLow"]
    assert (pay.op, pay.threshold, pay.for_) == ("<", 90, timedelta(minutes=1))
    assert set(pay.channels) == {"slack", "telegram", "email", "sms"}
    fraud = rules["FraudDetectedBurst"]
    assert isinstance(fraud.metric, LogMetric) and fraud.metric.window == FIVE_MIN
    assert (fraud.op, fraud.threshold) == (">=", 5)
    assert rules["UptimeLow"].threshold == 99.0
    assert rules["ResponseTimeP95High"].threshold == 5.0
    assert rules["ErrorRateHigh"].threshold == 5.0
    assert rules["PakasirUptimeLow"].threshold == 95.0
    assert rules["PaymentTimeHigh"].threshold == 60.0
    assert rules["FraudDetectionRateLow"].threshold == 90.0
    assert rules["FalsePositiveRateHigh"].threshold == 10.0
    assert rules["ManualReviewQueueLong"].threshold == 100
    delivery = rules["TelegramDeliveryLow"]
    assert isinstance(delivery.metric, SqlMetric) and delivery.threshold == 95.0


def test_rules_file_section_overrides_and_adds() -> None:
    config = AlertsRules.model_validate(
        {
            "grouping": {"group_wait": "10s", "repeat_interval": "1h"},
            "extra_rules": [
                {
                    "name": "QueueLong",
                    "metric": {"kind": "sql", "query": "SELECT 1 AS value"},
                    "op": ">",
                    "threshold": 0,
                    "for": "2m",
                    "severity": "critical",
                }
            ],
        }
    )
    assert config.grouping.group_wait == timedelta(seconds=10)
    assert config.grouping.group_interval == FIVE_MIN
    assert config.rule("QueueLong") is not None
    assert config.rule("QueueLong").for_ == timedelta(minutes=2)  # type: ignore[union-attr]
