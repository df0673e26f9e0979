"""QuickCart's documentation for the sandbox: a small git checkout whose documents last changed
at different times, with a CODEOWNERS file, so the monthly documentation review has stale
documents to list and owners to name. Commits are backdated from the demo clock's now."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

# document -> (days since it last changed, first line)
DOCUMENTS: dict[str, tuple[int, str]] = {
    "06-data_schema.md": (200, "# Data schema\n\ncustomers, orders, payments, fraud_reviews.\n"),
    "09-security_manifest.md": (150, "# Security manifest\n\nAdmin access is audited weekly.\n"),
    "11-anti_fraud_policy.md": (40, "# Anti-fraud policy\n\nFour rules flag orders.\n"),
    "12-maintenance_plan.md": (20, "# Maintenance plan\n\nDaily, weekly, monthly tasks.\n"),
    "13-recovery_strategy.md": (120, "# Recovery strategy\n\nNightly pg_dump, weekly restore.\n"),
    "17-observability.md": (10, "# Observability\n\nSee metrics.md for alert rules.\n"),
}
CODEOWNERS = """\
# QuickCart documentation owners
*                         @maya_techlead
06-data_schema.md         @dba_team
09-security_manifest.md   @security_team
11-anti_fraud_policy.md   @fraud_analyst
13-recovery_strategy.md   @devops_team
"""


def _git(root: Path, *args: str, when: datetime | None = None) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "QuickCart Docs",
        "GIT_AUTHOR_EMAIL": "docs@quickcart.id",
        "GIT_COMMITTER_NAME": "QuickCart Docs",
        "GIT_COMMITTER_EMAIL": "docs@quickcart.id",
    }
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
        env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    git = shutil.which("git") or "git"
    subprocess.run(  # noqa: S603 (our own fixed arguments)
        [git, "-C", str(root), *args], check=True, env=env, capture_output=True, timeout=30
    )


def prepare(root: Path, now: datetime) -> bool:
    """Create the docs checkout once; True if it was created. Without git: plain files whose
    modification times tell the same story."""
    if root.exists():
        return False
    root.mkdir(parents=True)
    use_git = shutil.which("git") is not None
    if use_git:
        _git(root, "init", "-q", "-b", "main")
    (root / "CODEOWNERS").write_text(CODEOWNERS, encoding="utf-8")
    oldest = max(days for days, _ in DOCUMENTS.values()) + 1
    if use_git:
        _git(root, "add", "CODEOWNERS")
        _git(root, "commit", "-q", "-m", "Owners", when=now - timedelta(days=oldest))
    for name, (days, text) in sorted(DOCUMENTS.items(), key=lambda item: -item[1][0]):
        path = root / name
        path.write_text(text, encoding="utf-8")
        when = now - timedelta(days=days)
        if use_git:
            _git(root, "add", name)
            _git(root, "commit", "-q", "-m", f"Update {name}", when=when)
        else:
            os.utime(path, (when.timestamp(), when.timestamp()))
    return True
