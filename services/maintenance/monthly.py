"""The seed's MonthlyMaintenance: its tasks run at once, and one failing does not stop the
others (`asyncio.gather(..., return_exceptions=True)`); each result or error is kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.maintenance.runs import JobOutcome, RunStatus

# The seed's order: security_audit, performance_optimization, fraud_model_update,
# database_optimization, documentation_review, compliance_check.
MONTHLY_TASKS = (
    "security_audit",
    "performance_optimization",
    "fraud_model_update",
    "database_optimization",
    "documentation_review",
    "compliance_check",
)


@dataclass(frozen=True)
class TaskResult:
    name: str
    outcome: JobOutcome | None
    error: str | None

    @property
    def status(self) -> RunStatus:
        return RunStatus.FAILED if self.outcome is None else self.outcome.status

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.outcome.summary if self.outcome else None,
            "error": self.error,
        }


async def run_concurrently(
    tasks: Mapping[str, Callable[[], Awaitable[JobOutcome]]],
) -> list[TaskResult]:
    names = list(tasks)
    answers = await asyncio.gather(*(tasks[n]() for n in names), return_exceptions=True)
    results: list[TaskResult] = []
    for name, answer in zip(names, answers, strict=True):
        if isinstance(answer, BaseException):
            if isinstance(answer, (KeyboardInterrupt, SystemExit)):
                raise answer
            results.append(TaskResult(name, None, f"{type(answer).__name__}: {answer}"[:300]))
        else:
            results.append(TaskResult(name, answer, None))
    return results


def overall(results: list[TaskResult]) -> RunStatus:
    statuses = {r.status for r in results}
    if RunStatus.FAILED in statuses:
        return RunStatus.FAILED  # the others' results are kept; Retry runs them all again
    if RunStatus.WARN in statuses:
        return RunStatus.WARN
    return RunStatus.OK
