"""`quickcart-ops check [--json] [NAME ...]`: run the probes once, print, exit like Nagios.

Exit codes: 0 all ok, 1 a warning, 2 something critical, 3 unknown (nothing worse found,
but a check could not run, or a NAME is no check). The lead's CLI calls `run_for_cli` with
plain values; services never import the bot's Settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from services.checks.config import CHECK_NAMES, ChecksRules, Targets, resolve_name
from services.checks.model import CheckReport, Status
from services.checks.probe import ProbeContext
from services.checks.runner import run_checks
from services.checks.units import fmt_duration
from services.clock import Clock, SystemClock
from services.i18n import use_locale
from services.rules import Rules, RulesError
from services.storage.db import create_pool

NAGIOS_WORDS = {
    Status.OK: "OK",
    Status.WARN: "WARNING",
    Status.CRIT: "CRITICAL",
    Status.UNKNOWN: "UNKNOWN",
}


@dataclass(frozen=True)
class CliConfig:
    targets: Targets
    database_url: str | None = None  # the bot's own DB: stores the run, log offsets, bot check
    redis_url: str | None = None  # the bot's own Redis (bot check)
    rules_file: Path | None = None
    locale: str = "id"
    timezone: str = "Asia/Jakarta"


def report_as_dict(report: CheckReport) -> dict[str, Any]:
    """The `--json` document (documented in services/checks/README.md)."""
    return {
        "status": report.status.value,
        "exit_code": report.exit_code,
        "started_at": report.started_at.isoformat(),
        "duration_s": round(report.duration_s, 3),
        "run_id": report.run_id,
        "checks": [
            {
                "name": r.name,
                "status": r.status.value,
                "summary": r.summary,
                "duration_s": round(r.duration_s, 3),
                "error": r.error,
                "values": [
                    {"key": v.key, "target": v.target, "value": v.amount, "unit": v.unit.value}
                    for v in r.values
                ],
                "details": [d.render() for d in r.details],
            }
            for r in report.results
        ],
    }


def render_json(report: CheckReport) -> str:
    return json.dumps(report_as_dict(report), ensure_ascii=False, indent=2)


def render_table(report: CheckReport) -> str:
    """First line in the Nagios style, then one row per check and its findings."""
    counts = {s: sum(1 for r in report.results if r.status is s) for s in Status}
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    lines = [
        f"CHECKS {NAGIOS_WORDS[report.status]} - {', '.join(parts) or 'no checks'} "
        f"in {fmt_duration(report.duration_s)}"
    ]
    width = max((len(r.name) for r in report.results), default=5)
    for r in report.results:
        lines.append(
            f"{NAGIOS_WORDS[r.status]:<8}  {r.name:<{width}}  "
            f"{fmt_duration(r.duration_s):>7}  {r.summary}"
        )
        if r.status is not Status.OK:
            lines.extend(f"{'':<8}  {'':<{width}}  {'':>7}    - {d.render()}" for d in r.details)
    return "\n".join(lines)


async def run_for_cli(
    config: CliConfig,
    names: Sequence[str],
    as_json: bool = False,
    *,
    clock: Clock | None = None,
) -> tuple[str, int]:
    """Run the named checks (all when empty); the text to print and the exit code."""
    selected: list[str] = []
    for name in names:
        resolved = resolve_name(name)
        if resolved is None:
            known = ", ".join(CHECK_NAMES)
            return f"CHECKS UNKNOWN - no check named {name!r}; known: {known}", 3
        if resolved not in selected:
            selected.append(resolved)
    try:
        rules = Rules.load(config.rules_file).section("checks", ChecksRules)
    except RulesError as exc:
        return f"CHECKS UNKNOWN - {exc}", 3
    pool = None
    problems: list[str] = []
    if config.database_url:
        try:
            pool = await create_pool(config.database_url, min_size=1, max_size=4, timeout=3.0)
        except Exception as exc:  # report and carry on: the other checks still matter
            problems.append(f"the bot's database cannot be reached ({type(exc).__name__})")
    redis = Redis.from_url(config.redis_url, socket_timeout=2.0) if config.redis_url else None
    try:
        ctx = ProbeContext(config.targets, rules, clock or SystemClock(), db=pool, redis=redis)
        with use_locale(config.locale):
            report = await run_checks(ctx, selected or None, trigger="cli")
            text = render_json(report) if as_json else render_table(report)
    finally:
        if redis is not None:
            await redis.aclose()
        if pool is not None:
            await pool.close()
    if problems and not as_json:
        text += "\n" + "\n".join(f"note: {p}" for p in problems)
    return text, report.exit_code
