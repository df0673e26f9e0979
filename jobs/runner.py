"""Running a job: claim (scheduled) or start (by hand) a maintenance_runs row, call the job's
function, store its outcome, push warnings and failures (and reports) to the admin chat.

Exactly once across replicas: every replica's scheduler fires the same slot; each tries to
INSERT the (job, slot) row, the unique index lets one win, the losers return None and write
nothing. No lock is held while the job works, so a slow job cannot block another replica.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from loguru import logger

from jobs.context import JobContext, JobDeps
from jobs.registry import JOBS, JobDef
from jobs.schedule import last_slot
from services import chats
from services.i18n import gettext as _
from services.i18n import use_locale
from services.maintenance import outbound as maintenance_outbound
from services.maintenance import runs
from services.maintenance.runs import JobOutcome, MaintenanceRun, RunStatus


class UnknownJob(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _job(name: str) -> JobDef:
    job = JOBS.get(name)
    if job is None:
        raise UnknownJob(name)
    return job


async def run_scheduled(
    name: str, deps: JobDeps, *, triggered_by: str = "scheduler"
) -> MaintenanceRun | None:
    """Run `name` for the slot it is due for now, unless another replica already claimed it."""
    job = _job(name)
    timing = deps.schedule()[name]
    now = deps.clock.now()
    slot = last_slot(timing, deps.tz, now, timedelta(minutes=timing.grace_minutes + 1))
    if slot is None:
        logger.info("job {} fired outside its grace period; nothing to do", name)
        return None
    return await run_slot(job, deps, slot, triggered_by=triggered_by)


async def run_slot(
    job: JobDef, deps: JobDeps, slot: datetime, *, triggered_by: str
) -> MaintenanceRun | None:
    run_id = await runs.claim_slot(
        deps.pool,
        job.name,
        slot,
        started_at=deps.clock.now(),
        triggered_by=triggered_by,
        claimed_by=deps.instance,
    )
    if run_id is None:
        logger.debug("job {} slot {} already claimed by another replica", job.name, slot)
        return None
    ctx = JobContext(deps, run_id, job.name, triggered_by, scheduled_for=slot)
    return await _execute(job, ctx)


async def run_now(
    name: str,
    deps: JobDeps,
    *,
    triggered_by: str = "staff",
    actor_id: int | None = None,
    confirmed: bool = False,
) -> MaintenanceRun:
    """Run a job at once (/runjob, the Retry button, the CLI). Always recorded."""
    job = _job(name)
    run_id = await runs.start_manual(
        deps.pool,
        name,
        started_at=deps.clock.now(),
        triggered_by=triggered_by,
        actor_id=actor_id,
        claimed_by=deps.instance,
    )
    ctx = JobContext(deps, run_id, name, triggered_by, actor_id=actor_id, confirmed=confirmed)
    return await _execute(job, ctx)


async def _execute(job: JobDef, ctx: JobContext) -> MaintenanceRun:
    # summaries are stored as the admin chat reads them: in the chat's one language
    language = await chats.chat_language(
        ctx.deps.pool, ctx.deps.admin_chat_id, ctx.deps.default_locale
    )
    try:
        with use_locale(language):
            outcome = await job.func(ctx)
    except Exception as exc:
        logger.opt(exception=exc).error("maintenance job {} failed", job.name)
        with use_locale(language):
            outcome = _failed(exc)
    run = await runs.finish(ctx.deps.pool, ctx.run_id, outcome, finished_at=ctx.deps.clock.now())
    await _push(job, ctx.deps, run, language)
    return run


def _failed(exc: Exception) -> JobOutcome:
    error = f"{type(exc).__name__}: {exc}"
    return JobOutcome(
        RunStatus.FAILED,
        _("The job stopped with an error: {error}").format(error=error[:300]),
        {"error": error[:1000]},
    )


async def _push(job: JobDef, deps: JobDeps, run: MaintenanceRun, language: str) -> None:
    """Warnings and failures always reach the admin chat, normal results of the jobs that report
    (`push="always"`) too, and so does every result of a run a person started: /runjob promises
    it."""
    if deps.admin_chat_id is None:
        return
    problem = run.status in (RunStatus.FAILED, RunStatus.WARN)
    if problem or job.push == "always" or run.triggered_by == "staff":
        await maintenance_outbound.push_run(deps.pool, deps.admin_chat_id, run, deps.tz, language)


async def catch_up(deps: JobDeps, names: list[str] | None = None) -> list[MaintenanceRun]:
    """On start: each job whose newest slot within its grace period has no run is run once.

    Only the newest missed slot counts: a bot that was down for three days runs the daily
    backup verification once, not three times. Slots already claimed (by this or another
    replica) are skipped by the claim itself.
    """
    done: list[MaintenanceRun] = []
    now = deps.clock.now()
    schedule = deps.schedule()
    for name in names or list(JOBS):
        timing = schedule.get(name)
        if timing is None or not timing.enabled:
            continue
        slot = last_slot(timing, deps.tz, now, timedelta(minutes=timing.grace_minutes))
        if slot is None or await runs.has_run_since(deps.pool, name, slot):
            continue
        run = await run_slot(JOBS[name], deps, slot, triggered_by="catch_up")
        if run is not None:
            done.append(run)
    return done


def outcome_details(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
