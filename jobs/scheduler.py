"""The APScheduler 3 AsyncIOScheduler that fires the jobs in TIMEZONE.

Every replica runs a scheduler; `runner.run_scheduled` makes each slot run once (the claimed
row). APScheduler's own misfire handling covers a busy loop (coalesce, per-job grace); runs
missed while the process was down are caught up once on start by `runner.catch_up`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger

from jobs.context import JobDeps
from jobs.registry import JOBS
from jobs.runner import catch_up, run_scheduled
from services.i18n import gettext as _
from services.maintenance import runs


async def _fire(name: str, deps: JobDeps) -> None:
    try:
        await run_scheduled(name, deps)
    except Exception as exc:  # the scheduler must live on; the error is logged with the job
        logger.opt(exception=exc).error("scheduled job {} could not be recorded", name)


def build_scheduler(deps: JobDeps) -> AsyncIOScheduler:
    """A scheduler with one APScheduler job per enabled maintenance job (not started)."""
    scheduler = AsyncIOScheduler(timezone=deps.tz)
    for name, timing in deps.schedule().items():
        if not timing.enabled or name not in JOBS:
            continue
        scheduler.add_job(
            _fire,
            trigger=timing.trigger(deps.tz),
            args=(name, deps),
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=timing.grace_minutes * 60,
            replace_existing=True,
        )
    return scheduler


async def recover(deps: JobDeps) -> None:
    """Runs left 'running' by a crashed process for over a day are marked failed."""
    now = deps.clock.now()
    await runs.abandon_stale(
        deps.pool,
        older_than=now - timedelta(days=1),
        finished_at=now,
        summary=_("The process running this job stopped before it finished."),
    )


@contextlib.asynccontextmanager
async def running_scheduler(
    deps: JobDeps, *, catch_up_on_start: bool = True
) -> AsyncIterator[AsyncIOScheduler]:
    """Start the scheduler (and the catch-up in the background); stop both on exit."""
    scheduler = build_scheduler(deps)
    scheduler.start()
    task: asyncio.Task[object] | None = None
    if catch_up_on_start:

        async def _catch_up() -> None:
            try:
                await recover(deps)
                done = await catch_up(deps)
                if done:
                    logger.info("caught up {} missed job(s)", len(done))
            except Exception as exc:
                logger.opt(exception=exc).error("catching up missed jobs failed")

        task = asyncio.create_task(_catch_up(), name="jobs-catch-up")
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
