"""JOBS: every maintenance job by name, with its function and how it is treated.

`destructive` jobs change QuickCart's systems (they delete keys, files, rewrite indexes): a
person starting one with /runjob confirms with a button first. `push` says whether a normal
result is pushed to the admin chat ("always") or only warnings and failures ("problems").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from jobs import daily, monthly, quarterly, weekly
from jobs.context import JobContext
from services.maintenance.runs import JobOutcome

JobFunc = Callable[[JobContext], Awaitable[JobOutcome]]


@dataclass(frozen=True)
class JobDef:
    name: str
    func: JobFunc
    destructive: bool = False
    push: Literal["always", "problems"] = "problems"


def _defs(*defs: JobDef) -> dict[str, JobDef]:
    return {d.name: d for d in defs}


JOBS: dict[str, JobDef] = _defs(
    JobDef("log_rotation", daily.log_rotation, destructive=True),
    JobDef("cache_cleanup", daily.cache_cleanup, destructive=True),
    JobDef("ticket_auto_close", daily.ticket_auto_close),
    JobDef("backup_verification", daily.backup_verification),
    JobDef("health_check_report", daily.health_check_report, push="always"),
    JobDef("database_health", daily.database_health),
    JobDef("payment_check", daily.payment_check),
    JobDef("log_analysis", daily.log_analysis),
    JobDef("backup_verification_report", daily.backup_verification_report, push="always"),
    JobDef("cache_cleanup_report", daily.cache_cleanup_report, push="always"),
    JobDef("dependency_review", weekly.dependency_review, push="always"),
    JobDef("database_maintenance", weekly.database_maintenance, destructive=True, push="always"),
    JobDef("security_review", weekly.security_review, push="always"),
    JobDef("performance_analysis", weekly.performance_analysis, push="always"),
    JobDef("fraud_review", weekly.fraud_review, push="always"),
    JobDef("backup_restore_test", weekly.backup_restore_test, push="always"),
    JobDef("system_updates_checklist", weekly.system_updates_checklist, push="always"),
    JobDef("weekly_report", monthly.weekly_report),
    JobDef("monthly_maintenance", monthly.monthly_maintenance, push="always"),
    JobDef("compliance_report", monthly.compliance_report),
    JobDef("quarterly_checklist", quarterly.quarterly_checklist, push="always"),
    JobDef("quarterly_reminders", quarterly.quarterly_reminders),
)
