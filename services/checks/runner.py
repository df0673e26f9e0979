"""Run probes concurrently, each inside its own time box, and store every run.

A probe that hangs is abandoned at its timeout (its task is cancelled, never awaited), so
one dead server cannot hold the others or the caller past the budget.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from loguru import logger

from services.checks import store
from services.checks.config import CHECK_NAMES
from services.checks.model import CheckReport, CheckResult, Outcome, Sentence, Status
from services.checks.probe import NotConfigured, Probe, ProbeContext, ProbeFailed
from services.checks.probes import (
    backups,
    bot,
    database,
    fraud,
    logs,
    payment,
    redis_probe,
    system,
)
from services.i18n import N_
from services.storage.types import Executor

STORE_TIMEOUT_S = 0.75  # the answer must not wait long for the record


def default_probes() -> dict[str, Probe]:
    return {
        "system": system.probe,
        "database": database.probe,
        "redis": redis_probe.probe,
        "payment": payment.probe,
        "backups": backups.probe,
        "logs": logs.probe,
        "fraud": fraud.probe,
        "bot": bot.probe,
    }


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove configured secrets and URL passwords from a text that may be shown or stored."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL_PASSWORD.sub(r"\1***@", text)


def _swallow(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def run_one(name: str, probe: Probe, ctx: ProbeContext) -> CheckResult:
    timeout = ctx.rules.timeout_for(name)
    started_at = ctx.clock.now()
    t0 = time.perf_counter()
    task = asyncio.ensure_future(probe(ctx))
    try:
        done, _pending = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_swallow)
        raise
    error: str | None = None
    if not done:
        task.cancel()
        task.add_done_callback(_swallow)
        outcome = Outcome(
            Status.CRIT,
            Sentence(N_("No answer within {seconds} s: the target hangs."), {"seconds": timeout}),
        )
        error = f"timeout after {timeout:g} s"
    elif task.cancelled():
        outcome = Outcome(Status.UNKNOWN, Sentence(N_("The check was cancelled.")))
        error = "cancelled"
    elif (exc := task.exception()) is not None:
        outcome, error = _outcome_of_error(exc, ctx)
    else:
        outcome = task.result()
    return CheckResult(
        name=name,
        status=outcome.status,
        sentence=outcome.sentence,
        values=outcome.values,
        details=outcome.details,
        started_at=started_at,
        duration_s=time.perf_counter() - t0,
        error=error,
    )


def _outcome_of_error(exc: BaseException, ctx: ProbeContext) -> tuple[Outcome, str | None]:
    if isinstance(exc, NotConfigured):
        sentence = Sentence(
            N_("{setting} is not set, so this check cannot run."), {"setting": exc.setting}
        )
        return Outcome(Status.UNKNOWN, sentence), None
    if isinstance(exc, ProbeFailed):
        return Outcome(exc.status, exc.sentence), redact(exc.sentence.render(), ctx.secrets())
    reason = redact(f"{type(exc).__name__}: {exc}", ctx.secrets())[:500]
    logger.opt(exception=exc).warning("health probe failed unexpectedly: {}", reason)
    sentence = Sentence(N_("The check failed: {reason}"), {"reason": reason})
    return Outcome(Status.UNKNOWN, sentence), reason


async def run_checks(
    ctx: ProbeContext,
    names: Iterable[str] | None = None,
    *,
    probes: Mapping[str, Probe] | None = None,
    trigger: str = "manual",
    store: bool = True,
) -> CheckReport:
    """Run the named probes (all by default) at once; store the run when `ctx.db` is set."""
    available = dict(probes) if probes is not None else default_probes()
    selected = [n for n in (names or CHECK_NAMES) if n in available]
    started_at = ctx.clock.now()
    t0 = time.perf_counter()
    results = await asyncio.gather(*(run_one(n, available[n], ctx) for n in selected))
    report = CheckReport(
        started_at=started_at, duration_s=time.perf_counter() - t0, results=tuple(results)
    )
    if store and ctx.db is not None:
        report = await _store(ctx.db, report, trigger)
    return report


async def _store(db: Executor, report: CheckReport, trigger: str) -> CheckReport:
    try:
        run_id = await asyncio.wait_for(
            store.save_report(db, report, trigger=trigger), STORE_TIMEOUT_S
        )
    except Exception as exc:  # the answer matters more than the record (timeouts included)
        logger.warning("could not store the health check run: {}", type(exc).__name__)
        return report
    return replace(report, run_id=run_id)
