"""Evaluate the rules: read each metric (time-boxed), step every series' alert, store it, and
put alerts that start or stop firing into their group (which schedules the group's message)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
from loguru import logger

from services.alerts import model, store
from services.alerts.config import AlertRule, AlertsRules
from services.alerts.evaluation import AlertState, fingerprint, holds, step
from services.alerts.sources import MetricSource, NoData, Sample, SourceContext, source_for
from services.clock import Clock
from services.storage.db import transaction
from services.storage.types import Executor


@dataclass
class EvaluationReport:
    evaluated: int = 0
    pending: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)


def alert_labels(rule: AlertRule, sample: Sample) -> dict[str, str]:
    return {**rule.labels, **dict(sample.labels), "alertname": rule.name, "severity": rule.severity}


async def evaluate(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    *,
    monitor_db: Executor | None = None,
    sources: Mapping[str, MetricSource] | None = None,
) -> EvaluationReport:
    """One evaluation of every enabled rule. `sources` replaces a rule's source by name."""
    report = EvaluationReport()
    ctx = SourceContext(db=pool, monitor_db=monitor_db)
    for rule in config.all_rules():
        source = (sources or {}).get(rule.name) or source_for(rule)
        now = clock.now()
        try:
            async with asyncio.timeout(config.evaluation_timeout_s):
                samples = await source.read(ctx, now)
        except (NoData, TimeoutError, OSError, asyncpg.PostgresError) as exc:
            _log_data_lost(rule.name, exc)
            samples = None
        if samples is None:
            report.no_data.append(rule.name)
        else:
            _log_data_back(rule.name)
        async with transaction(pool) as conn:
            await _evaluate_rule(conn, rule, samples, now, config, report)
        report.evaluated += 1
    return report


# Rules whose source failed and has given no samples since, in this process: the log says so
# when a rule loses its data and when samples come back, not at every evaluation.
_without_data: set[str] = set()


def _log_data_lost(rule: str, exc: BaseException) -> None:
    if rule not in _without_data:
        _without_data.add(rule)
        why = str(exc) if isinstance(exc, NoData) and str(exc) else type(exc).__name__
        logger.warning("alert rule {} has no data: {}", rule, why)


def _log_data_back(rule: str) -> None:
    if rule in _without_data:
        _without_data.discard(rule)
        logger.info("alert rule {} has data again", rule)


async def _evaluate_rule(
    conn: Executor,
    rule: AlertRule,
    samples: list[Sample] | None,
    now: datetime,
    config: AlertsRules,
    report: EvaluationReport,
) -> None:
    known = await store.alerts_of_rule(conn, rule.name)
    seen: dict[str, tuple[Mapping[str, str], float | None, bool | None]] = {}
    for sample in samples or []:
        labels: Mapping[str, str] = alert_labels(rule, sample)
        seen[fingerprint(labels)] = (
            labels,
            sample.value,
            holds(sample.value, rule.op, rule.threshold),
        )
    if samples is not None:  # a series that vanished from a readable source is over
        for fp, old in known.items():
            if fp not in seen:
                seen[fp] = (old.labels, None, False)
    else:
        for fp, old in known.items():
            seen[fp] = (old.labels, old.value, None)
    group_by = rule.group_by if rule.group_by is not None else config.grouping.group_by
    touched: list[int] = []
    for fp, (labels, value, condition) in sorted(seen.items()):
        row = known.get(fp)
        previous = row.as_state() if row else AlertState()
        result = step(previous, condition, now, rule.for_, rule.keep_firing_for)
        if row is None and result.state.state == "inactive":
            continue
        group_id = row.group_id if row else None
        if result.went_firing:
            spec = config.group_for(rule.name, labels, rule.severity, rule.channels, group_by)
            key = spec["key"]
            ids = await store.open_groups(conn, [spec], now, config.grouping)
            group_id = ids[key]
            report.fired.append(fp)
        elif result.went_resolved:
            report.resolved.append(fp)
            if group_id is not None:
                touched.append(group_id)
        elif result.changed and result.state.state == "pending":
            report.pending.append(fp)
        annotations = (
            {"summary": rule.summary, "unit": rule.unit} if rule.summary else {"unit": rule.unit}
        )
        await store.save_alert(
            conn,
            model.AlertWrite(
                fingerprint=fp,
                source="rule",
                alertname=rule.name,
                labels=labels,
                annotations=annotations,
                severity=rule.severity,
                state=result.state,
                value=value if value is not None else (row.value if row else None),
                threshold=rule.threshold,
                comparison=rule.op,
                evaluated_at=now,
                runbook_url=rule.runbook_url,
                group_id=group_id,
            ),
        )
    await store.touch_groups(conn, touched, now, config.grouping)
