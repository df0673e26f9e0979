"""The same label sets through the bot and through Debian's Alertmanager 0.25, with one
configuration: the receivers each alert reaches and the set of inhibited alerts must agree.

Alertmanager gets the routing tree and the inhibit rules of RULES_FILE verbatim (its receivers
without integrations); every alert of the run is posted to its `/api/v2/alerts`, which answers
with each alert's receivers (`route.Match`) and `status.inhibitedBy` (its inhibitor). The bot
ingests the same alerts as Alertmanager's webhook would deliver them, records inhibitions as
its alert loop does, and the test reads the receivers of each alert's group and
`alerts.inhibited_by` from PostgreSQL.

Inhibition scenarios share one Alertmanager: each scenario's alerts carry `scenario="N"` and
every inhibit rule has `scenario` in `equal` (on both sides), so scenarios cannot inhibit each
other.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import yaml

from services.alerts import alertmanager, inhibition
from services.alerts.config import AlertsRules
from services.alerts.route_report import render_route_test
from services.i18n import use_locale
from tests.integration.alerts.real_alertmanager import BINARY, running

pytestmark = pytest.mark.skipif(
    BINARY is None,
    reason="prometheus-alertmanager (Debian package) is not installed: the comparison with "
    "Alertmanager 0.25 is skipped",
)

ROUTE: dict[str, Any] = {
    "receiver": "admin",
    "group_by": ["alertname"],
    "routes": [
        {"matchers": ['dup="yes"'], "receiver": "security", "continue": True},
        {
            "matchers": ['team="payments"'],
            "receiver": "payments",
            "continue": True,
            "routes": [
                {"matchers": ['severity="critical"'], "receiver": "payments-pager"},
                {"match_re": {"service": "gateway|qris"}, "receiver": "gateway"},
            ],
        },
        {
            "matchers": ['severity=~"critical|warning"', 'env!="staging"'],
            "receiver": "oncall",
            "group_by": ["..."],
            "routes": [
                {"matchers": ['alertname=~"Fraud.*"'], "receiver": "security", "continue": True},
                {"matchers": ['alertname!~"Fraud.*"', 'check=""'], "receiver": "devops"},
            ],
        },
        {"match": {"team": "security"}, "receiver": "security"},
        {"matchers": ['instance=~".*:9100"'], "receiver": "nodes", "group_wait": "10s"},
        {"matchers": ['{team="data", tier=~"db|cache"}'], "receiver": "dba"},
    ],
}
RECEIVERS = ["admin", "payments", "payments-pager", "gateway", "oncall", "security", "devops"]
RECEIVERS += ["nodes", "dba"]

# (labels, why the case is here)
ROUTING_CASES: list[tuple[dict[str, str], str]] = [
    ({"alertname": "A"}, "nothing matches: the root"),
    ({"alertname": "A", "team": "payments"}, "continue: payments; no later sibling matches"),
    ({"alertname": "A", "team": "payments", "severity": "critical"}, "nested + continue"),
    ({"alertname": "A", "team": "payments", "service": "qris"}, "match_re, anchored"),
    ({"alertname": "A", "team": "payments", "service": "qris2"}, "anchored: no partial"),
    ({"alertname": "A", "team": "payments", "service": "gateway", "severity": "critical"}, "first"),
    ({"alertname": "A", "team": "Payments"}, "case matters"),
    ({"alertname": "A", "severity": "warning"}, "regex alternative, != on a missing label"),
    ({"alertname": "A", "severity": "warning", "env": "staging"}, "!= excludes"),
    ({"alertname": "A", "severity": "info"}, "regex does not match"),
    ({"alertname": "FraudBurst", "severity": "critical"}, "continue inside a branch"),
    ({"alertname": "FraudBurst", "severity": "critical", "team": "security"}, "continue, stop"),
    ({"alertname": "Cpu", "severity": "critical", "check": "system"}, '="" needs a missing'),
    ({"alertname": "Cpu", "severity": "critical", "check": ""}, "empty label = missing"),
    ({"alertname": "Cpu", "severity": "critical"}, '!~ and =""'),
    ({"alertname": "A", "team": "security"}, "legacy match"),
    ({"alertname": "A", "team": "security", "severity": "warning"}, "earlier sibling wins"),
    ({"alertname": "A", "instance": "web-1:9100"}, ".* prefix, anchored"),
    ({"alertname": "A", "instance": "web-1:91000"}, "anchored end"),
    ({"alertname": "A", "instance": ":9100"}, ".* matches empty"),
    ({"alertname": "A", "team": "data", "tier": "db"}, "a matcher list in one string"),
    ({"alertname": "A", "team": "data", "tier": "web"}, "one of two fails"),
    ({"alertname": "A", "team": "data"}, "missing label vs regex"),
    ({"alertname": "A", "team": "payments", "env": "staging", "severity": "warning"}, "mixed"),
    ({"alertname": "Ünïcode", "team": "payments", "service": "gateway"}, "unicode values"),
    (
        {"alertname": "A", "severity": "critical", "env": "prod", "team": "data", "tier": "cache"},
        "sibling order",
    ),
    ({"alertname": "A", "severity": "critical|warning"}, "regex is not a literal"),
    ({"alertname": "A", "dup": "yes", "team": "security"}, "two routes, one receiver"),
    ({"alertname": "A", "dup": "yes"}, "continue, then nothing else: that route"),
    (
        {"alertname": "A", "team": "payments", "severity": "critical", "service": "gateway"},
        "the first child stops the branch",
    ),
]

INHIBIT_RULES: list[dict[str, Any]] = [
    {
        "source_matchers": ['alertname="PakasirUptimeLow"'],
        "target_matchers": ['alertname=~"PaymentSuccessRateLow|PaymentTimeHigh"'],
    },
    {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["cluster"],
    },
    {
        "source_matchers": ['alertname="NodeDown"'],
        "target_matchers": ['alertname=~"Node.*"'],
        "equal": ["instance"],
    },
    {
        "source_match": {"alertname": "DatabaseDown"},
        "target_match_re": {"alertname": ".*"},
        "equal": ["db"],
    },
]

# Each scenario: the alerts that fire together.
INHIBIT_SCENARIOS: list[list[dict[str, str]]] = [
    [{"alertname": "PakasirUptimeLow"}, {"alertname": "PaymentSuccessRateLow"}],
    [{"alertname": "PakasirUptimeLow"}, {"alertname": "PaymentTimeHigh", "target": "x"}],
    [{"alertname": "PaymentSuccessRateLow"}, {"alertname": "PaymentTimeHigh"}],
    [{"alertname": "PakasirUptimeLow"}, {"alertname": "CpuHigh"}],
    [
        {"alertname": "A", "severity": "critical", "cluster": "c1"},
        {"alertname": "B", "severity": "warning", "cluster": "c1"},
    ],
    [
        {"alertname": "A", "severity": "critical", "cluster": "c1"},
        {"alertname": "B", "severity": "warning", "cluster": "c2"},
    ],
    [
        {"alertname": "A", "severity": "critical"},
        {"alertname": "B", "severity": "warning"},
    ],
    [
        {"alertname": "A", "severity": "critical", "cluster": "c1"},
        {"alertname": "B", "severity": "warning"},
    ],
    [{"alertname": "B", "severity": "warning", "cluster": "c1"}],
    [
        {"alertname": "NodeDown", "instance": "n1"},
        {"alertname": "NodeDiskFull", "instance": "n1"},
        {"alertname": "NodeDiskFull", "instance": "n2"},
    ],
    [{"alertname": "NodeDown", "instance": "n1"}],
    [
        {"alertname": "NodeDown", "instance": "n1"},
        {"alertname": "NodeDown", "instance": "n1", "job": "other"},
    ],
    [
        {"alertname": "NodeDown", "instance": "n1", "severity": "critical", "cluster": "k"},
        {"alertname": "NodeLoad", "instance": "n1", "severity": "warning", "cluster": "k"},
    ],
    [
        {"alertname": "DatabaseDown", "db": "orders"},
        {"alertname": "SlowQuery", "db": "orders"},
        {"alertname": "SlowQuery", "db": "users"},
    ],
    [
        {"alertname": "DatabaseDown", "db": "orders"},
        {"alertname": "DatabaseDown", "db": "orders", "replica": "r1"},
    ],
    [{"alertname": "DatabaseDown"}, {"alertname": "Anything"}],
    [
        {"alertname": "DatabaseDown", "db": "orders", "severity": "critical", "cluster": "c"},
        {"alertname": "ReplicaLag", "db": "users", "severity": "warning", "cluster": "c"},
    ],
    [
        {"alertname": "X", "severity": "warning", "cluster": "c"},
        {"alertname": "Y", "severity": "warning", "cluster": "c"},
    ],
    [
        {"alertname": "X", "severity": "critical", "cluster": "c"},
        {"alertname": "Y", "severity": "critical", "cluster": "c"},
    ],
    [
        {"alertname": "PakasirUptimeLow", "severity": "warning", "cluster": "p"},
        {"alertname": "Gateway", "severity": "critical", "cluster": "p"},
        {"alertname": "PaymentSuccessRateLow", "severity": "critical"},
    ],
    [
        {"alertname": "NodeDown", "instance": "n9", "severity": "warning", "cluster": "z"},
        {
            "alertname": "NodeDown",
            "instance": "n9",
            "severity": "critical",
            "cluster": "z",
            "job": "b",
        },
    ],
    [{"alertname": "PakasirUptimeLow", "severity": "critical", "cluster": "q"}],
    [
        {"alertname": "A", "severity": "critical", "cluster": ""},
        {"alertname": "B", "severity": "warning"},
    ],
    [
        {"alertname": "DatabaseDown", "db": "orders"},
        {"alertname": "NodeDown", "instance": "n3", "db": "orders"},
        {"alertname": "NodeDiskFull", "instance": "n3"},
    ],
    [
        {"alertname": "Payment", "severity": "warning"},
        {"alertname": "PaymentSuccessRateLow", "severity": "warning"},
        {"alertname": "PaymentTimeHigh", "severity": "critical"},
    ],
    [
        {"alertname": "NodeDown", "instance": "ñ-1", "cluster": "ü"},
        {"alertname": "NodeCpu", "instance": "ñ-1", "cluster": "ü"},
    ],
]


def rules_section() -> dict[str, Any]:
    with_scenario = [{**r, "equal": ["scenario", *r.get("equal", [])]} for r in INHIBIT_RULES]
    return {
        "route": ROUTE,
        "receivers": [{"name": n, "chats": ["admin"]} for n in RECEIVERS],
        "inhibit_rules": with_scenario,
    }


def alertmanager_config(section: dict[str, Any]) -> dict[str, Any]:
    """The same tree and rules, as Alertmanager reads them."""
    return {
        "route": section["route"],
        "receivers": [{"name": r["name"]} for r in section["receivers"]],
        "inhibit_rules": section["inhibit_rules"],
    }


def all_alerts() -> list[dict[str, str]]:
    alerts = [{**labels, "case": f"r{i}"} for i, (labels, _) in enumerate(ROUTING_CASES)]
    for n, scenario in enumerate(INHIBIT_SCENARIOS):
        alerts += [
            {**labels, "scenario": str(n), "case": f"i{n}.{j}"} for j, labels in enumerate(scenario)
        ]
    return alerts


def dedup(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


async def ask_alertmanager(alerts: list[dict[str, str]]) -> dict[str, tuple[list[str], bool]]:
    """case -> (receivers in tree order, inhibited) as Alertmanager 0.25 sees them."""
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
        for labels in alerts
    ]
    config = yaml.safe_dump(alertmanager_config(rules_section()))
    async with running(config, prefix="qc-am-route-") as base, aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/v2/alerts", json=body) as response:
            assert response.status == 200, await response.text()
        # The inhibitor learns of new alerts through a subscription: read until every alert
        # is there and two reads 300 ms apart agree.
        previous: dict[str, tuple[list[str], bool]] | None = None
        for _ in range(50):
            async with session.get(f"{base}/api/v2/alerts") as response:
                listed = await response.json()
            seen = {
                a["labels"]["case"]: (
                    dedup([r["name"] for r in a["receivers"]]),
                    bool(a["status"]["inhibitedBy"]),
                )
                for a in listed
            }
            if len(seen) == len(alerts) and seen == previous:
                return seen
            previous = seen
            await asyncio.sleep(0.3)
        raise AssertionError(f"Alertmanager never settled: {previous}")


async def ask_the_bot(
    pool: asyncpg.Pool, alerts: list[dict[str, str]]
) -> dict[str, tuple[list[str], bool]]:
    config = AlertsRules.model_validate(rules_section())
    now = datetime.now(UTC)
    payload = alertmanager.AmPayload.model_validate(
        {
            "version": "4",
            "groupKey": "{}:{}",
            "status": "firing",
            "receiver": "quickcart",
            "alerts": [
                {"status": "firing", "labels": labels, "startsAt": now.isoformat()}
                for labels in alerts
            ],
        }
    )
    await alertmanager.ingest(pool, payload, config, now)
    async with pool.acquire() as conn, conn.transaction():
        await inhibition.apply(conn, config.inhibitions)
    rows = await pool.fetch(
        """SELECT a.labels->>'case' AS case, g.receivers, a.inhibited_by
           FROM alerts a JOIN alert_groups g ON g.id = a.group_id"""
    )
    return {r["case"]: (list(r["receivers"]), r["inhibited_by"] is not None) for r in rows}


async def test_the_bot_routes_and_inhibits_like_alertmanager_0_25(pool: asyncpg.Pool) -> None:
    alerts = all_alerts()
    assert len(ROUTING_CASES) >= 25 and len(INHIBIT_SCENARIOS) >= 25
    theirs = await ask_alertmanager(alerts)
    ours = await ask_the_bot(pool, alerts)
    differences = {
        case: {"labels": labels, "alertmanager": theirs.get(case), "bot": ours.get(case)}
        for labels in alerts
        if theirs.get(case := labels["case"]) != ours.get(case)
    }
    assert not differences, json.dumps(differences, indent=1, ensure_ascii=False)
    # the comparison is not empty on either side
    assert sum(1 for _, inhibited in ours.values() if inhibited) >= 10
    assert len({tuple(r) for r, _ in ours.values()}) >= 8


AMTOOL = shutil.which("amtool")


@pytest.mark.skipif(AMTOOL is None, reason="amtool (Debian's prometheus-alertmanager) is absent")
def test_alerts_route_prints_what_amtool_config_routes_test_prints(tmp_path: Path) -> None:
    """`quickcart-ops alerts route`'s first line against `amtool config routes test`, per case."""
    assert AMTOOL is not None
    config_file = tmp_path / "am.yml"
    config_file.write_text(yaml.safe_dump(alertmanager_config(rules_section())))
    config = AlertsRules.model_validate(rules_section())
    for labels, why in ROUTING_CASES:
        theirs = subprocess.run(
            [AMTOOL, "config", "routes", "test", f"--config.file={config_file}"]
            + [f"{k}={v}" for k, v in labels.items()],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        with use_locale("en"):
            ours = render_route_test(config, labels).splitlines()[0]
        assert ours == theirs, (labels, why)
