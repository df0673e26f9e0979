"""The routing tree and inhibit rules of RULES_FILE, table-driven (Alertmanager 0.25's semantics;
tests/integration/alerts/test_routing_vs_alertmanager.py compares with the real one)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.alerts.config import AlertsRules
from services.alerts.inhibition import InhibitRuleConfig, inhibited
from services.alerts.render import render_group
from services.alerts.route_report import BadLabels, parse_labels, render_route_test, render_tree
from services.alerts.routing import receivers_of
from services.i18n import use_locale
from services.rules import Rules, RulesError
from tests.unit.alerts.test_render import TZ, alert, view

TREE: dict[str, Any] = {
    "route": {
        "receiver": "admin",
        "group_by": ["alertname"],
        "group_wait": "10s",
        "repeat_interval": "2h",
        "routes": [
            {
                "matchers": ['team="payments"'],
                "receiver": "payments",
                "continue": True,
                "group_wait": "1s",
                "routes": [
                    {"matchers": ['severity="critical"'], "receiver": "pager"},
                ],
            },
            {
                "matchers": ['severity=~"critical|warning"'],
                "receiver": "oncall",
                "group_by": ["..."],
                "routes": [{"matchers": ['service!~"fraud.*"'], "group_interval": "1m"}],
            },
        ],
    },
    "receivers": [
        {"name": "admin", "chats": ["admin"]},
        {"name": "payments", "chats": ["support", -1001], "channels": ["email"]},
        {"name": "pager", "roles": ["senior_engineer"], "channels": ["sms", "email"]},
        {"name": "oncall", "chats": ["security"]},
    ],
}


def config(**extra: Any) -> AlertsRules:
    return AlertsRules.model_validate({**TREE, **extra})


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"alertname": "X"}, ["admin"]),
        ({"team": "payments"}, ["payments"]),
        ({"team": "payments", "severity": "critical"}, ["pager", "oncall"]),
        ({"team": "payments", "severity": "info"}, ["payments"]),
        ({"severity": "warning"}, ["oncall"]),  # the child inherits the receiver
        ({"severity": "warning", "service": "fraud-model"}, ["oncall"]),  # no child: the parent
        ({"severity": "criticalx"}, ["admin"]),  # anchored
        ({"team": "PAYMENTS"}, ["admin"]),
    ],
)
def test_an_alert_reaches_the_receivers_of_the_routes_it_ends_at(
    labels: dict[str, str], receivers: list[str]
) -> None:
    tree = config().tree
    assert tree is not None
    assert receivers_of(tree.match(labels)) == receivers


def test_children_inherit_what_they_do_not_set() -> None:
    tree = config().tree
    assert tree is not None
    pager = tree.routes[0].routes[0]
    assert (pager.group_wait, pager.repeat_interval) == (timedelta(seconds=1), timedelta(hours=2))
    assert pager.group_interval == timedelta(minutes=5)  # the `grouping` section's default
    leaf = tree.routes[1].routes[0]
    assert leaf.receiver == "oncall" and leaf.group_by == ("...",)
    assert leaf.group_interval == timedelta(minutes=1) and leaf.group_wait == timedelta(seconds=10)
    assert leaf.id == "1.0"


def test_group_by_dots_groups_by_every_label() -> None:
    config_ = config()
    spec = config_.group_for(
        "A",
        {"alertname": "A", "severity": "warning", "x": "1"},
        "warning",
        ["telegram"],
        ["alertname"],
    )
    assert spec["labels"] == {"alertname": "A", "severity": "warning", "x": "1"}
    assert spec["receivers"] == ["oncall"] and spec["channels"] == []
    paged = config_.group_for(
        "A", {"team": "payments", "severity": "critical"}, "critical", ["telegram"], ["alertname"]
    )
    assert paged["receivers"] == ["pager", "oncall"]
    assert paged["channels"] == ["email", "sms"]  # the receivers', not the rule's
    assert paged["group_wait_s"] == 1.0  # the first route's timings


def test_without_a_tree_groups_are_what_they_were() -> None:
    spec = AlertsRules().group_for(
        "CpuHigh",
        {"alertname": "CpuHigh", "target": "a"},
        "warning",
        ["telegram", "slack"],
        ["alertname"],
    )
    assert spec == {
        "key": "CpuHigh|[]",
        "labels": {"alertname": "CpuHigh"},
        "severity": "warning",
        "channels": ["telegram", "slack"],
    }


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"route": {"receiver": "nobody"}}, "receiver 'nobody' is not defined"),
        ({"route": {"receiver": "admin", "matchers": ["a=b"]}}, "root route must not have"),
        ({"route": {"receiver": "admin", "continue": True}}, "cannot have continue"),
        ({"route": {"routes": []}}, "needs a receiver"),
        ({"route": {"receiver": "admin", "group_by": ["...", "x"]}}, "'...' must be the only"),
        (
            {"route": {"receiver": "admin", "routes": [{"matchers": ['a=~"(x"']}]}},
            "bad matcher",
        ),
        ({"route": {"receiver": "admin", "routes": [{"matchers": ["nonsense"]}]}}, "bad matcher"),
        ({"route": {"receiver": "admin", "routes": [{"recever": "x"}]}}, "Extra inputs"),
        ({"receivers": [{"name": "admin", "chats": ["ops"]}]}, "chat 'ops' is neither"),
        ({"receivers": [{"name": "admin", "roles": ["wizard"]}]}, "roles.0"),
        ({"receivers": [{"name": "admin"}, {"name": "admin"}]}, "unique"),
        ({"inhibit_rules": [{"source_matchers": ['a=~"[z-a]"']}]}, "bad matcher"),
        ({"route": {"receiver": "admin", "group_interval": "0s"}}, "longer than zero"),
        ({"route": {"receiver": "admin", "routes": [{"repeat_interval": 0}]}}, "longer than zero"),
    ],
)
def test_a_tree_that_does_not_fit_is_refused_naming_why(change: dict[str, Any], said: str) -> None:
    rules = Rules({"alerts": {**TREE, **change}}, source="rules.yml")
    with pytest.raises(RulesError) as caught:
        rules.section("alerts", AlertsRules)
    assert said in str(caught.value)


class A:
    def __init__(self, fp: str, **labels: str) -> None:
        self.fingerprint = fp
        self.labels = labels


RULES = [
    InhibitRuleConfig.model_validate(r).compiled()
    for r in (
        {
            "source_matchers": ['alertname="GatewayDown"'],
            "target_matchers": ['alertname=~"Payment.*"'],
        },
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["cluster"],
        },
        {
            "source_match": {"alertname": "NodeDown"},
            "target_match_re": {"alertname": "Node.*"},
            "equal": ["node"],
        },
    )
]


@pytest.mark.parametrize(
    ("alerts", "muted"),
    [
        ([A("g", alertname="GatewayDown"), A("p", alertname="PaymentRate")], {"p": "g"}),
        ([A("p", alertname="PaymentRate")], {}),
        (
            [A("c", severity="critical", cluster="a"), A("w", severity="warning", cluster="a")],
            {"w": "c"},
        ),
        ([A("c", severity="critical", cluster="a"), A("w", severity="warning", cluster="b")], {}),
        ([A("c", severity="critical"), A("w", severity="warning")], {"w": "c"}),  # both missing
        ([A("c", severity="critical", cluster=""), A("w", severity="warning")], {"w": "c"}),
        # it does not inhibit itself, nor another alert that matches both sides
        ([A("n", alertname="NodeDown", node="1")], {}),
        (
            [A("n", alertname="NodeDown", node="1"), A("m", alertname="NodeDown", node="1", x="y")],
            {},
        ),
        (
            [A("n", alertname="NodeDown", node="1"), A("d", alertname="NodeDisk", node="1")],
            {"d": "n"},
        ),
        ([A("n", alertname="NodeDown", node="1"), A("d", alertname="NodeDisk", node="2")], {}),
        # an inhibited alert still inhibits
        (
            [
                A("c", severity="critical", alertname="PaymentX"),
                A("g", alertname="GatewayDown"),
                A("w", severity="warning"),
            ],
            {"c": "g", "w": "c"},
        ),
    ],
)
def test_inhibition_follows_alertmanager(alerts: list[A], muted: dict[str, str]) -> None:
    found = inhibited(RULES, alerts)
    assert {fp: src.fingerprint for fp, src in found.items()} == muted


def test_quickcarts_defaults_inhibit_the_gateways_symptoms_and_the_own_databases() -> None:
    rules = AlertsRules().inhibitions
    gateway = A("g", alertname="PakasirUptimeLow", severity="critical", target="pakasir")
    target_down = A("t", alertname="TargetDown", check="payment")
    rate = A("r", alertname="PaymentSuccessRateLow", severity="critical")
    slow = A("s", alertname="PaymentTimeHigh", severity="warning")
    cpu = A("c", alertname="CpuHigh", severity="warning")
    assert set(inhibited(rules, [gateway, rate, slow, cpu])) == {"r", "s"}
    assert set(inhibited(rules, [target_down, rate, slow, cpu])) == {"r", "s"}
    assert inhibited(rules, [rate, slow, cpu]) == {}
    own_db = A("b", alertname="TargetDown", check="bot")
    computed = [A(n, alertname=n) for n in ("UptimeLow", "TelegramDeliveryLow", "OutboxStuck")]
    assert set(inhibited(rules, [own_db, *computed, cpu])) == {
        "UptimeLow",
        "TelegramDeliveryLow",
        "OutboxStuck",
    }
    assert AlertsRules.model_validate({"inhibit_rules": []}).inhibitions == ()


def test_route_test_prints_receivers_like_amtool_then_who_they_are() -> None:
    with use_locale("en"):
        text = render_route_test(config(), parse_labels(["severity=critical,team=payments"]))
    lines = text.splitlines()
    assert lines[0] == "pager,oncall"
    assert lines[1] == "  pager: on call for senior_engineer · channels sms, email"
    assert lines[2] == "  oncall: chats security"
    with use_locale("id"):
        assert "Tidak ada routing tree" in render_route_test(AlertsRules(), {"alertname": "x"})
        assert render_tree(config()).splitlines()[1].startswith('  {team="payments"}')


@pytest.mark.parametrize("bad", ["severity", "a=~b", "a=b c", "=x"])
def test_labels_that_are_not_pairs_are_refused(bad: str) -> None:
    with pytest.raises(BadLabels):
        parse_labels([bad])


def test_an_inhibited_alert_in_a_group_message_says_what_inhibits_it() -> None:
    rendered_view = view(
        alert(1),
        alert(2, team="<pay>"),
        silenced_fingerprints=frozenset({"fp0002"}),
        inhibited={"fp0002": "Gateway<Down>"},
    )
    with use_locale("en"):
        lines = render_group(rendered_view, TZ).text.splitlines()
    assert (
        lines[2]
        == "• <code>instance=web-1</code>: 93.25% (threshold &gt; 80%), since 2026-11-02 08:00"
    )
    assert lines[3] == (
        "🔇 <code>instance=web-2, team=&lt;pay&gt;</code>: 93.25% (threshold &gt; 80%),"
        " since 2026-11-02 08:00 · inhibited by Gateway&lt;Down&gt;"
    )
    with use_locale("id"):
        assert "diredam oleh Gateway&lt;Down&gt;" in render_group(rendered_view, TZ).text
