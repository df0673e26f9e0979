"""Every 🔴 a probe can report fires a default alert rule (after the rule's `for`).

The list of critical findings is read from the probes' source (services/checks/probes and the
runner's timeout): every `found.add(...)` whose status can be `Status.CRIT` (a literal, a
conditional, or `judge`/`judge_low`), every `ProbeFailed(...)` (critical unless it says
otherwise) and every `Outcome(Status.CRIT, ...)`. For each, SCENARIOS says what a probe stores
when it reports that finding (the result through the real store, at the probe's critical
threshold from `ChecksRules`); the test stores it once a minute and evaluates the default rules
until one fires. A new critical finding without a scenario fails the first test; one whose
scenario fires no rule fails the second.
"""

from __future__ import annotations

import ast
import math
import string
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest

from services.alerts import engine
from services.alerts.config import AlertsRules
from services.checks import store
from services.checks.config import Band, ChecksRules
from services.checks.model import CheckReport, CheckResult, Sentence, Status, Unit, Value
from services.clock import FrozenClock

ROOT = Path(__file__).resolve().parents[3]
PROBES = ROOT / "services" / "checks" / "probes"
SOURCES = [*sorted(PROBES.glob("*.py")), ROOT / "services" / "checks" / "runner.py"]
JUDGES = {"judge", "judge_low"}
# Where `Status.CRIT` may appear without being a finding: the judging helpers themselves.
HELPERS = {"judge", "judge_low", "_rank", "ProbeFailed"}


def _msgid(node: ast.expr) -> str | None:
    """The literal of `N_("...")`, or of `Sentence(N_("..."), ...)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "N_" and node.args and isinstance(node.args[0], ast.Constant):
            return str(node.args[0].value)
        if node.func.id == "Sentence" and node.args:
            return _msgid(node.args[0])
    return None


def _may_be_crit(status: ast.expr) -> bool:
    for node in ast.walk(status):
        if isinstance(node, ast.Attribute) and node.attr == "CRIT":
            return True
        if _is_judge(node):
            return True
    return False


def _is_judge(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in JUDGES


def _crit_site(call: ast.Call) -> str | None:
    """The msgid of a finding this call reports as critical (None: not such a call)."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "add" and len(call.args) >= 2:
        msgid = _msgid(call.args[1])
        return msgid if msgid is not None and _may_be_crit(call.args[0]) else None
    if isinstance(func, ast.Name) and func.id == "ProbeFailed" and call.args:
        status = call.args[1] if len(call.args) > 1 else None
        status = status or next((k.value for k in call.keywords if k.arg == "status"), None)
        return _msgid(call.args[0]) if status is None or _may_be_crit(status) else None
    if isinstance(func, ast.Name) and func.id == "Outcome" and len(call.args) >= 2:
        return _msgid(call.args[1]) if _may_be_crit(call.args[0]) else None
    return None


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return any(inner is node for inner in ast.walk(outer))


def crit_findings() -> dict[str, str]:
    """msgid -> where, for every finding a probe can report as critical."""
    found: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        sites: list[ast.Call] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (msgid := _crit_site(node)) is not None:
                sites.append(node)
                found.setdefault(msgid, f"{path.relative_to(ROOT)}:{node.lineno}")
        helpers = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name in HELPERS
        ]
        # Nothing critical may hide in a shape the reader above does not know.
        for node in ast.walk(tree):
            crit = isinstance(node, ast.Attribute) and node.attr == "CRIT"
            if crit or _is_judge(node):
                where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
                known = any(_inside(node, s) for s in [*sites, *helpers])
                assert known, f"{where}: a critical status this test cannot read"
    return found


C = ChecksRules()


def above(band: Band | float) -> float:
    """The smallest value a probe judges critical (`judge`: above `crit`)."""
    return math.nextafter(band.crit if isinstance(band, Band) else band, math.inf)


def below(limit: float) -> float:
    """The largest value `judge_low` judges critical (below `crit_below`)."""
    return math.nextafter(limit, -math.inf)


@dataclass(frozen=True)
class Scenario:
    """What the probes store when they report a finding: one check's critical result."""

    check: str
    values: dict[str, float] = field(default_factory=dict)
    unreachable: bool = False  # the result carries an error: nothing could be measured
    log_counts: dict[str, int] = field(default_factory=dict)  # per minute, what logs ingests


def probe(check: str, **values: float) -> Scenario:
    return Scenario(check, values)


def down(check: str) -> Scenario:
    return Scenario(check, unreachable=True)


SCENARIOS: dict[str, Scenario] = {
    # runner: a target that hangs past the timeout
    "No answer within {seconds} s: the target hangs.": down("database"),
    # _pg: QuickCart's PostgreSQL refuses (database, fraud; payment's statistics part)
    "The database cannot be reached: {reason}": down("database"),
    # system
    "CPU is at {value}.": probe("system", cpu_percent=above(C.system.cpu_percent)),
    "Load average is {load} on {cpus} CPUs.": probe(
        "system", load_per_cpu=above(C.system.load_per_cpu)
    ),
    "Memory is {value} used.": probe("system", memory_percent=above(C.system.memory_percent)),
    "Swap is {value} used.": probe("system", swap_percent=above(C.system.swap_percent)),
    "Disk {mount} is {value} full.": probe("system", disk_percent=above(C.system.disk_percent)),
    # database
    "{used} of {max} connections are in use ({percent}).": probe(
        "database", connections_percent=above(C.database.connections_percent)
    ),
    "PID {pid} ({user}) has been running a query for {duration}: {query}": probe(
        "database", long_queries=1, longest_query_seconds=above(C.database.long_query_crit_s)
    ),
    "PID {pid} has waited {duration} for a lock held by PID {blockers}: {query}": probe(
        "database", lock_waits=1, longest_lock_wait_seconds=above(C.database.lock_wait_crit_s)
    ),
    "This replica is {lag} behind its primary.": probe(
        "database", replication_lag_seconds=above(C.database.replication_lag_s)
    ),
    # redis
    "Redis cannot be reached: {reason}": down("redis"),
    "Redis uses {used} of its {max} maxmemory ({percent}).": probe(
        "redis", memory_percent=above(C.redis.memory_percent)
    ),
    # payment
    "Pakasir did not answer within {seconds}.": probe("payment", gateway_up=0),
    "Pakasir cannot be reached: {reason}": probe("payment", gateway_up=0),
    "Pakasir answers with HTTP {status}.": probe("payment", gateway_up=0, gateway_http_status=503),
    "Pakasir answered in {latency}.": probe(
        "payment", gateway_up=1, gateway_latency_seconds=above(C.payment.latency_s)
    ),
    "{rate} of {count} payments succeeded in the last {minutes} minutes.": probe(
        "payment", payments_finished=100, success_rate_percent=below(C.payment.success_crit_percent)
    ),
    "A payment takes {duration} on average.": probe(
        "payment", payments_finished=100, avg_payment_seconds=above(C.payment.avg_time_s)
    ),
    # backups
    "The backup folder {path} does not exist.": probe("backups", archives=0),
    "There is no pg_dump archive in {path}.": probe("backups", archives=0),
    "The newest backup {name} is {age} old; at most {allowed} is allowed.": probe(
        "backups", archives=3, newest_age_seconds=above(C.backups.max_age_hours * 3600)
    ),
    "The checksum of {name} does not match its .sha256 file: the archive is damaged.": probe(
        "backups", archives=3, checksum_ok=0
    ),
    "The .sha256 file of {name} cannot be read.": probe("backups", archives=3, checksum_ok=0),
    "pg_restore cannot read the table of contents of {name}: {error}": probe(
        "backups", archives=3, checksum_ok=0
    ),
    "The last restore test, {age} ago, failed: {verdict}.": probe(
        "backups", archives=3, checksum_ok=1, restore_test_ok=0
    ),
    # logs: the rules read what log analysis tallied (log_counts), as the probe does
    "{rate} of {lines} log lines in the last {minutes} minutes are errors.": Scenario(
        "logs", log_counts={"line": 100, "error": math.ceil(C.logs.error_rate_percent.crit) + 1}
    ),
    "{count} fraud_detected events in the last {minutes} minutes.": Scenario(
        "logs", log_counts={"line": 100, "fraud": C.logs.fraud_crit}
    ),
    # fraud
    "{count} payments wait for manual fraud review.": probe(
        "fraud", review_queue=above(C.fraud.queue)
    ),
    "{rate} of {count} reviewed cases in {days} days were false positives.": probe(
        "fraud", reviewed=50, false_positive_percent=above(C.fraud.false_positive_percent)
    ),
    "The fraud rules caught {rate} of the fraud in {days} days ({missed} got through).": probe(
        "fraud", detection_rate_percent=below(C.fraud.detection_rate_percent.crit)
    ),
    # bot
    "The bot's database fails: {reason}": down("bot"),
    "{count} messages wait in the outbox.": probe(
        "bot", outbox_backlog=above(C.bot.outbox_backlog)
    ),
    "The oldest waits for {duration}.": probe(
        "bot", outbox_backlog=1, outbox_oldest_seconds=above(C.bot.outbox_oldest_s)
    ),
    "The bot's Redis fails: {reason}": probe("bot", redis_up=0),
    "{count} customer tickets in 24 h for {active} active customers: {rate}.": probe(
        "bot", complaints=3, complaint_rate_percent=above(C.bot.complaint_rate_percent)
    ),
}


def test_every_critical_finding_of_a_probe_has_a_scenario() -> None:
    derived = crit_findings()
    assert len(derived) >= 30  # the reader found the probes' findings
    missing = {msgid: where for msgid, where in derived.items() if msgid not in SCENARIOS}
    assert not missing, "critical findings without a scenario (and maybe without a rule): " + (
        "; ".join(f"{where}: {msgid!r}" for msgid, where in missing.items())
    )
    stale = set(SCENARIOS) - set(derived)
    assert not stale, f"scenarios of findings no probe reports as critical: {sorted(stale)}"


def _sentence(msgid: str) -> Sentence:
    names = {name for _text, name, _spec, _conv in string.Formatter().parse(msgid) if name}
    return Sentence(msgid, dict.fromkeys(names, "x"))


async def _store(pool: asyncpg.Pool, scenario: Scenario, msgid: str, at: datetime) -> None:
    values = tuple(Value(key, amount, Unit.COUNT) for key, amount in scenario.values.items())
    result = CheckResult(
        name=scenario.check,
        status=Status.CRIT,
        sentence=_sentence(msgid),
        values=values,
        details=(_sentence(msgid),),
        started_at=at,
        duration_s=0.1,
        error=msgid if scenario.unreachable else None,
    )
    await store.save_report(pool, CheckReport(at, 0.1, (result,)), trigger="schedule")
    minute = at.replace(second=0, microsecond=0)
    for kind, count in scenario.log_counts.items():
        await pool.execute(
            "INSERT INTO log_counts (minute, kind, count) VALUES ($1, $2, $3)", minute, kind, count
        )


@pytest.mark.parametrize("msgid", sorted(SCENARIOS))
async def test_a_default_rule_fires_on_it(pool: asyncpg.Pool, msgid: str) -> None:
    scenario = SCENARIOS[msgid]
    config = AlertsRules()
    clock = FrozenClock()
    longest = max(rule.for_ for rule in config.all_rules())
    fired: list[str] = []
    for _minute in range(int(longest.total_seconds() // 60) + 2):
        await _store(pool, scenario, msgid, clock.now())
        if (await engine.evaluate(pool, config, clock)).fired:
            fired = [
                r["alertname"]
                for r in await pool.fetch("SELECT alertname FROM alerts WHERE state = 'firing'")
            ]
            break
        clock.advance(minutes=1)
    assert fired, f"no default rule fires when a probe reports {msgid!r} ({scenario})"
