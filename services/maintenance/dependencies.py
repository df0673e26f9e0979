"""Dependency review: `pip-audit --format json` on QuickCart's requirements or lock file.

Findings are (package, version, advisory id); the ones not in last week's run are "new".
pip-audit needs the advisory database on the network: when it cannot reach it, the review says
so (verdict `no_network`) instead of reporting a clean bill of health.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from services.process import run_process
from services.results import as_json


class DependencyPolicy(BaseModel):
    """RULES_FILE `maintenance.dependencies`."""

    requirements_file: Path | None = None
    pip_audit_bin: str = "pip-audit"
    # Pinned lock files audit without creating a virtualenv or resolving (fast, offline-safe).
    extra_args: list[str] = ["--no-deps", "--disable-pip"]
    timeout_s: float = 300.0


_NO_NETWORK = re.compile(
    r"ConnectionError|NewConnectionError|Max retries exceeded|NameResolutionError|"
    r"Temporary failure in name resolution|Failed to establish a new connection|"
    r"Network is unreachable|ProxyError|ConnectTimeout|ReadTimeout",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    fix_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.package}=={self.version}:{self.advisory}"

    def to_json(self) -> dict[str, Any]:
        return as_json(self)


@dataclass
class AuditResult:
    verdict: str  # 'ok', 'vulnerable', 'no_network', 'not_configured', 'error'
    findings: list[Finding] = field(default_factory=list)
    new: list[Finding] = field(default_factory=list)
    packages: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return as_json(self, new=[f.key for f in self.new])


def parse_report(text: str) -> tuple[list[Finding], int]:
    """pip-audit's JSON (`{"dependencies": [{"name", "version", "vulns": [...]}]}`)."""
    data = json.loads(text)
    deps = data.get("dependencies", []) if isinstance(data, dict) else data
    findings: list[Finding] = []
    for dep in deps:
        for vuln in dep.get("vulns", []) or []:
            findings.append(
                Finding(
                    package=str(dep.get("name", "?")),
                    version=str(dep.get("version", "?")),
                    advisory=str(vuln.get("id", "?")),
                    fix_versions=tuple(vuln.get("fix_versions", []) or []),
                    aliases=tuple(vuln.get("aliases", []) or []),
                )
            )
    return findings, len(deps)


async def audit(
    policy: DependencyPolicy,
    previous_keys: set[str] | None = None,
    env: dict[str, str] | None = None,
) -> AuditResult:
    if policy.requirements_file is None:
        return AuditResult("not_configured")
    if not policy.requirements_file.is_file():
        return AuditResult("error", error=f"{policy.requirements_file} does not exist")
    argv = [
        policy.pip_audit_bin,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--requirement",
        str(policy.requirements_file),
        *policy.extra_args,
    ]
    try:
        done = await run_process(argv, policy.timeout_s, env=env)
    except FileNotFoundError:
        return AuditResult("error", error=f"{policy.pip_audit_bin} not found")
    except TimeoutError:
        return AuditResult("error", error=f"pip-audit took longer than {policy.timeout_s:g} s")
    try:
        findings, packages = parse_report(done.stdout)
    except (json.JSONDecodeError, AttributeError):
        if _NO_NETWORK.search(done.stderr):
            return AuditResult("no_network", error=_last_line(done.stderr))
        return AuditResult(
            "error", error=_last_line(done.stderr) or f"exit status {done.returncode}"
        )
    previous = previous_keys or set()
    new = [f for f in findings if f.key not in previous]
    verdict = "vulnerable" if findings else "ok"
    return AuditResult(verdict, findings, new, packages)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""
