"""RULES_FILE `docs`:

    docs:
      stale_days: 90                 # a document unchanged this long is listed
      patterns: ["**/*.md"]          # which files are documents
      metrics_file: 17-observability-metrics.md
      owners:                        # first matching pattern wins; a role or a name
        "13-recovery_strategy.md": devops
        "11-anti_fraud_policy.md": fraud_analyst
        "*": tech_lead

A CODEOWNERS file in DOCS_DIR (or its .github/ or docs/) names owners too, after these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DocsRules(BaseModel):
    stale_days: int = Field(default=90, ge=1)
    patterns: list[str] = Field(default_factory=lambda: ["**/*.md"])
    metrics_file: str = Field(default="metrics.md", pattern=r"^[\w./-]+\.md$")
    write_metrics_file: bool = True  # write the regenerated document into DOCS_DIR
    owners: dict[str, str] = Field(default_factory=dict)
    git_timeout_s: float = 30.0
    max_diff_lines: int = 60  # in the chat message; the whole diff is attached as a file
    language: Literal["id", "en"] = "en"  # of the metrics document (QuickCart's docs)
