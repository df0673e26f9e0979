"""Quarterly deep maintenance by the scheduler: the checklist is created on the quarter's first
day (its slot in Asia/Jakarta), owners of open tasks are reminded weekly, the next quarter's
first day reports what slipped; RULES_FILE replaces a quarter's tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg

from jobs.context import JobDeps
from jobs.runner import run_now, run_scheduled
from jobs.schedule import DEFAULT_SCHEDULE, next_run
from services import roster as staff_roster
from services import users
from services.clock import FrozenClock
from services.maintenance.runs import RunStatus
from services.quarterly import actions
from services.quarterly.actions import Evidence
from services.quarterly.config import QuarterlyRules
from services.users import Role

from .conftest import ADMIN_CHAT

JAKARTA = ZoneInfo("Asia/Jakarta")
DEVI, OKA = 3001, 3002  # devops, senior engineer


def jkt(*args: int) -> datetime:
    return datetime(*args, tzinfo=JAKARTA)  # type: ignore[arg-type,misc]


def test_the_checklist_slot_is_the_first_day_of_each_quarter() -> None:
    timing = DEFAULT_SCHEDULE["quarterly_checklist"]
    fire = next_run(timing, JAKARTA, jkt(2027, 1, 1, 0, 6))
    assert fire == jkt(2027, 4, 1, 0, 5)
    assert next_run(timing, JAKARTA, jkt(2027, 4, 1, 0, 6)) == jkt(2027, 7, 1, 0, 5)


async def roster(pool: asyncpg.Pool) -> None:
    for user_id, name, role in [(DEVI, "Devi", Role.DEVOPS), (OKA, "Oka", Role.SENIOR_ENGINEER)]:
        await pool.execute(
            "INSERT INTO users (id, first_name, language) VALUES ($1, $2, 'en')", user_id, name
        )
        await staff_roster.add_member(
            pool, user_id=user_id, display_name=name, roles=[role], added_by=None
        )


async def test_q2_is_created_reminded_and_its_slips_reported_when_q3_begins(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    await roster(pool)
    deps = make_deps(jkt(2027, 4, 1, 0, 5, 3))
    run = await run_scheduled("quarterly_checklist", deps)
    assert run is not None and run.status is RunStatus.OK
    assert run.details == {"quarter": "2027Q2", "created": 3, "reported": []}
    tasks = await pool.fetch("SELECT key, owner_role FROM quarter_tasks ORDER BY id")
    assert [(t["key"], t["owner_role"]) for t in tasks] == [
        ("load_testing", "devops"),
        ("scaling", "devops"),
        ("optimization", "senior_engineer"),
    ]
    posted = await pool.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE chat_id = $1 AND dedup_key = $2",
        ADMIN_CHAT,
        "quarter-checklist:2027Q2",
    )
    assert "Performance &amp; Scaling" in posted and "0 of 3 done" in posted

    # Oka optimises; Devi's two tasks stay open: Monday's reminder goes to Devi alone.
    assert isinstance(deps.clock, FrozenClock)
    deps.clock.set(jkt(2027, 5, 3, 9, 0))
    oka = await users.get(pool, OKA)
    assert oka is not None
    ctx = actions.QuarterContext(
        rules=QuarterlyRules(), tz=JAKARTA, admin_chat_id=ADMIN_CHAT, default_locale="en"
    )
    await actions.tick(pool, deps.clock, ctx, 3, oka, Evidence(note="p95 down to 1.2 s"))
    run = await run_now("quarterly_reminders", deps)
    assert run.details == {"quarter": "2027Q2", "open_tasks": 2, "reminded": [DEVI]}
    reminder = await pool.fetchval("SELECT payload->>'text' FROM outbox WHERE chat_id = $1", DEVI)
    assert "Load testing" in reminder and "Infrastructure scaling" in reminder
    assert "Performance optimization" not in reminder
    # The same week again: nobody is reminded twice.
    run = await run_now("quarterly_reminders", deps)
    assert run.details["reminded"] == []

    # Q3 begins: Q2's report says what was done and what slipped.
    deps.clock.set(jkt(2027, 7, 1, 0, 5, 1))
    run = await run_scheduled("quarterly_checklist", deps)
    assert run is not None and run.details["reported"] == ["2027Q2"]
    report = await pool.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE dedup_key = 'quarter-report:2027Q2'"
    )
    assert "1 of 3 tasks done, 2 slipped." in report
    assert "Performance optimization (Senior Engineer): done by Oka on 2027-05-03 09:00" in report
    assert "“p95 down to 1.2 s”" in report
    slipped = report.split("Slipped")[1]
    assert "Load testing (DevOps)" in slipped and "Infrastructure scaling (DevOps)" in slipped
    assert await pool.fetchval("SELECT count(*) FROM quarter_tasks WHERE quarter = '2027Q3'") == 3


async def test_rules_file_replaces_a_quarters_tasks(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool
) -> None:
    rules = {
        "quarterly": {
            "quarters": {
                "Q3": {
                    "focus": "Fraud Prevention",
                    "tasks": [{"key": "velocity", "title": "Tune velocity rules", "owner": "dba"}],
                }
            }
        }
    }
    deps = make_deps(jkt(2027, 7, 1, 0, 5, 3), rules=rules)
    run = await run_scheduled("quarterly_checklist", deps)
    assert run is not None and run.details["created"] == 1
    task = await pool.fetchrow("SELECT key, title, owner_role FROM quarter_tasks")
    assert dict(task) == {"key": "velocity", "title": "Tune velocity rules", "owner_role": "dba"}
