"""Job buttons pack alike on both sides; monthly tasks run together and survive one failing."""

from __future__ import annotations

import asyncio

import pytest

from jobs.registry import JOBS
from services.maintenance import render as maintenance_render
from services.maintenance.monthly import overall, run_concurrently
from services.maintenance.render import JobAction
from services.maintenance.runs import JobOutcome, RunStatus


@pytest.mark.parametrize("act", ["run", "no", "retry"])
def test_the_services_button_data_is_what_the_handlers_factory_packs(act: str) -> None:
    for name in JOBS:
        packed = JobAction(act=act, job=name).pack()
        assert packed == maintenance_render.callback(act, name)
        assert len(packed.encode()) < 64


async def test_one_failing_monthly_task_does_not_stop_the_others() -> None:
    started: list[str] = []

    async def ok(name: str) -> JobOutcome:
        started.append(name)
        await asyncio.sleep(0)
        return JobOutcome(RunStatus.OK, name)

    async def broken() -> JobOutcome:
        started.append("broken")
        raise RuntimeError("audit log unreachable")

    results = await run_concurrently(
        {
            "security_audit": broken,
            "compliance_check": lambda: ok("compliance_check"),
            "documentation_review": lambda: ok("documentation_review"),
        }
    )

    assert [r.name for r in results] == [
        "security_audit",
        "compliance_check",
        "documentation_review",
    ]
    assert results[0].error == "RuntimeError: audit log unreachable"
    assert [r.status for r in results[1:]] == [RunStatus.OK, RunStatus.OK]
    assert sorted(started) == ["broken", "compliance_check", "documentation_review"]
    assert overall(results) is RunStatus.FAILED
    assert overall(results[1:]) is RunStatus.OK
