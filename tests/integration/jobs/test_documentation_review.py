"""The monthly documentation review on the sandbox's documentation (a git checkout whose
documents last changed 10 to 200 days ago, with CODEOWNERS): stale documents listed with their
owners and ages from git history (file times when it is no checkout), the metrics document
regenerated from the live configuration, its diff posted the next month, the health report in
the admin chat. Checked figure by figure."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from jobs.context import JobContext, JobDeps
from jobs.monthly_reviews import documentation_review
from jobs.schedule import DEFAULT_SCHEDULE
from sandbox.world import docs
from services.alerts.config import AlertsRules
from services.checks.config import Targets
from services.maintenance.runs import RunStatus

from .conftest import ADMIN_CHAT

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 0, 30, tzinfo=JAKARTA)
STALE = [  # oldest first, as the report lists them
    {"path": "06-data_schema.md", "days": 200, "owner": "@dba_team", "source": "git"},
    {"path": "09-security_manifest.md", "days": 150, "owner": "@security_team", "source": "git"},
    {"path": "13-recovery_strategy.md", "days": 120, "owner": "@devops_team", "source": "git"},
]


def context(
    make_deps: Callable[..., JobDeps], root: Path, now: datetime = NOW, **kw: object
) -> JobContext:
    deps = make_deps(now, targets=Targets(docs_dir=root), **kw)
    return JobContext(
        deps, run_id=int(now.timestamp()), job="monthly_maintenance", triggered_by="t"
    )


def plain(html: str) -> str:
    return (
        re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


async def admin_texts(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT payload->>'text' AS t FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id",
        ADMIN_CHAT,
    )
    return [plain(r["t"]) for r in rows]


async def test_stale_documents_owners_and_the_metrics_document_from_the_sandbox(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, tmp_path: Path
) -> None:
    root = tmp_path / "docs"
    assert docs.prepare(root, NOW)
    outcome = await documentation_review(context(make_deps, root))

    assert outcome.status is RunStatus.WARN  # three documents are stale
    details = outcome.details
    assert (details["documents"], details["git"], details["stale_days"]) == (6, True, 90)
    assert details["stale"] == STALE
    assert details["metrics_first_version"] and details["metrics_written"]

    written = (root / "metrics.md").read_text(encoding="utf-8")
    rules = AlertsRules().all_rules()
    rows = [line for line in written.splitlines() if line.startswith("| ")]
    for rule in rules:
        row = next(r for r in rows if r.startswith(f"| {rule.name} |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[3:] == [
            _dur(rule.for_),
            rule.severity,
            ", ".join(rule.channels),
        ], row
        assert cells[2].startswith(f"{rule.op} {rule.threshold:g}"), row
    for name, timing in DEFAULT_SCHEDULE.items():
        assert f"| {name} | {timing.describe()} |" in written, name
    assert "| P0 | 15 min | the channel's |" in written
    assert "| email | 8 h | 2 d | yes |" in written
    assert (
        "| emergency | 0 | 30 min | no |" in written
        or "| emergency | 0 min | 30 min | no |" in written
    )

    report = (await admin_texts(pool))[-1]
    assert "Documentation health: 6 documents (changes from git history)" in report, report
    assert "3 documents not changed for 90 days or more:" in report
    assert "• 06-data_schema.md: 200 days (since 2026-05-15), owner @dba_team" in report, report
    assert "• 13-recovery_strategy.md: 120 days (since 2026-08-03), owner @devops_team" in report
    assert "11-anti_fraud_policy.md" not in report  # 40 days: fine
    assert "The metrics document metrics.md was generated for the first time." in report

    # A month later one rule was added in RULES_FILE: the diff says exactly that.
    extra = {
        "alerts": {
            "extra_rules": [
                {
                    "name": "RefundsHigh",
                    "metric": {"kind": "sql", "query": "SELECT 1 AS value", "database": "monitor"},
                    "op": ">",
                    "threshold": 25,
                    "for": "10m",
                    "severity": "critical",
                    "channels": ["telegram", "sms"],
                }
            ]
        }
    }
    later = NOW + timedelta(days=31)
    outcome = await documentation_review(context(make_deps, root, later, rules=extra))
    assert (outcome.details["metrics_added"], outcome.details["metrics_removed"]) == (1, 0)
    report = (await admin_texts(pool))[-1]
    assert "The metrics document metrics.md was regenerated: +1 −0 lines." in report, report
    assert (
        "+| RefundsHigh | SQL on monitor: `SELECT 1 AS value` | > 25 | 10m | critical"
        " | telegram, sms |" in report
    ), report
    # Regenerated once more without a change: unchanged, nothing to diff.
    again = await documentation_review(
        context(make_deps, root, later + timedelta(days=30), rules=extra)
    )
    assert again.details["metrics_added"] == 0
    assert "is unchanged since last month" in (await admin_texts(pool))[-1]


def _dur(value: timedelta) -> str:
    from services.docs.metrics_doc import duration

    return duration(value)


async def test_a_plain_directory_uses_file_times_and_rules_file_owners(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, tmp_path: Path
) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    for name, days in [("runbook.md", 100), ("api.md", 5), ("notes.txt", 400)]:
        path = root / name
        path.write_text("# doc\n", encoding="utf-8")
        when = (NOW - timedelta(days=days)).timestamp()
        os.utime(path, (when, when))
    rules = {"docs": {"stale_days": 30, "owners": {"runbook.md": "devops", "*": "tech_lead"}}}
    outcome = await documentation_review(context(make_deps, root, rules=rules))
    assert outcome.details["git"] is False
    assert outcome.details["stale"] == [
        {"path": "runbook.md", "days": 100, "owner": "devops", "source": "mtime"}
    ]  # notes.txt is no document (patterns: **/*.md)


async def test_without_docs_dir_the_review_is_skipped_with_a_notice(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    deps = make_deps(NOW)
    outcome = await documentation_review(JobContext(deps, 1, "monthly_maintenance", "t"))
    assert outcome.status is RunStatus.SKIPPED and "DOCS_DIR" in outcome.summary


@pytest.mark.skipif(not Path("/usr/bin/git").exists(), reason="git is not installed")
def test_the_sandbox_docs_are_a_git_checkout(tmp_path: Path) -> None:
    root = tmp_path / "d"
    docs.prepare(root, NOW)
    log = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True, check=True
    )
    assert len(log.stdout.splitlines()) == 7
