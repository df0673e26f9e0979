"""Dependency review with pip-audit: findings, what is new since last week, and no network."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.context import JobDeps
from jobs.runner import run_now
from services.maintenance.dependencies import DependencyPolicy, audit
from services.maintenance.runs import RunStatus

JAKARTA = ZoneInfo("Asia/Jakarta")
PIP_AUDIT = str(Path(sys.executable).with_name("pip-audit"))


def _fake_pip_audit(tmp_path: Path, report: dict[str, object]) -> str:
    """A stand-in for pip-audit's advisory lookup, which needs the internet (none in tests)."""
    script = tmp_path / "pip-audit"
    script.write_text(f"#!/bin/sh\ncat <<'JSON'\n{json.dumps(report)}\nJSON\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def _dir(path: Path) -> Path:
    path.mkdir()
    return path


def _report(*vulns: tuple[str, str, str]) -> dict[str, object]:
    deps = [
        {"name": "aiohttp", "version": "3.8.0", "vulns": []},
        {"name": "jinja2", "version": "2.10", "vulns": []},
    ]
    for package, advisory, fix in vulns:
        dep = next(d for d in deps if d["name"] == package)
        dep["vulns"].append({"id": advisory, "fix_versions": [fix], "aliases": []})  # type: ignore[attr-defined]
    return {"dependencies": deps, "fixes": []}


async def test_without_network_the_review_says_so_instead_of_passing(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.19.0\n")
    unreachable = {
        **os.environ,
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }

    result = await audit(
        DependencyPolicy(requirements_file=requirements, pip_audit_bin=PIP_AUDIT, timeout_s=120),
        env=unreachable,
    )

    assert result.verdict == "no_network", result.error
    assert result.findings == []


async def test_the_weekly_review_reports_only_new_findings_as_new(
    make_deps: Callable[..., JobDeps], tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("aiohttp==3.8.0\njinja2==2.10\n")
    first_week = _fake_pip_audit(
        _dir(tmp_path / "w1"),
        _report(("aiohttp", "PYSEC-1", "3.9.2")),
    )
    rules = {
        "maintenance": {
            "dependencies": {"requirements_file": str(requirements), "pip_audit_bin": first_week}
        }
    }
    deps = make_deps(datetime(2026, 11, 8, 1, 0, tzinfo=JAKARTA), rules=rules)
    first = await run_now("dependency_review", deps, triggered_by="scheduler")
    assert first.status is RunStatus.WARN
    assert first.details["new"] == ["aiohttp==3.8.0:PYSEC-1"]

    second_week = _fake_pip_audit(
        _dir(tmp_path / "w2"),
        _report(("aiohttp", "PYSEC-1", "3.9.2"), ("jinja2", "GHSA-2", "2.11.3")),
    )
    rules["maintenance"]["dependencies"]["pip_audit_bin"] = second_week
    deps = make_deps(datetime(2026, 11, 15, 1, 0, tzinfo=JAKARTA), rules=rules)
    second = await run_now("dependency_review", deps, triggered_by="scheduler")

    assert second.details["new"] == ["jinja2==2.10:GHSA-2"]
    assert "2 known vulnerabilities in 2 packages, 1 new since last week" in second.summary
