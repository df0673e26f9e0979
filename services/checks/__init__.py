"""Health checks of QuickCart's systems: probes, the runner, storage and renderers.

ctx = ProbeContext(targets, rules.section("checks", ChecksRules), clock, db=pool, redis=redis)
report = await run_checks(ctx, ["database", "payment"], trigger="health")
render_health_card(report, timezone=settings.TIMEZONE)
"""

from services.checks.config import CHECK_NAMES, ChecksRules, Targets, resolve_name
from services.checks.model import CheckReport, CheckResult, Outcome, Sentence, Status, Unit, Value
from services.checks.probe import NotConfigured, ProbeContext, ProbeFailed
from services.checks.runner import run_checks

__all__ = [
    "CHECK_NAMES",
    "CheckReport",
    "CheckResult",
    "ChecksRules",
    "NotConfigured",
    "Outcome",
    "ProbeContext",
    "ProbeFailed",
    "Sentence",
    "Status",
    "Targets",
    "Unit",
    "Value",
    "resolve_name",
    "run_checks",
]
