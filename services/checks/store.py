"""Every run of the probes, stored: check results and numeric samples (uptime, trends, alerts).

Tables from migration 0005_checks. A run is written by one statement, so it is all or nothing
whether `db` is a pool or a connection.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.checks.model import CheckReport, CheckResult, Sentence, Status, Unit, Value
from services.storage.records import jsonb, rowcount
from services.storage.types import Executor

_SAVE_RUN = """
WITH run AS (
    INSERT INTO check_runs (started_at, duration_ms, trigger, status)
    VALUES ($1, $2, $3, $4)
    RETURNING id
), results AS (
    INSERT INTO check_results
        (run_id, name, status, at, duration_ms, summary, sentence, details, error)
    SELECT run.id, r.name, r.status, r.at, r.duration_ms, r.summary, r.sentence, r.details,
           r.error
    FROM run, jsonb_to_recordset($5::text::jsonb) AS r(
        name text, status text, at timestamptz, duration_ms integer, summary text,
        sentence jsonb, details jsonb, error text)
), samples AS (
    INSERT INTO check_samples (run_id, at, check_name, key, target, value, unit)
    SELECT run.id, $1, s.check_name, s.key, s.target, s.value, s.unit
    FROM run, jsonb_to_recordset($6::text::jsonb) AS s(
        check_name text, key text, target text, value double precision, unit text)
)
SELECT id FROM run
"""


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def save_report(db: Executor, report: CheckReport, *, trigger: str = "manual") -> int:
    results = [
        {
            "name": r.name,
            "status": r.status.value,
            "at": r.started_at.isoformat(),
            "duration_ms": _ms(r.duration_s),
            "summary": r.summary,
            "sentence": r.sentence.to_json(),
            "details": [d.to_json() for d in r.details],
            "error": r.error,
        }
        for r in report.results
    ]
    samples = [
        {
            "check_name": r.name,
            "key": v.key,
            "target": v.target,
            "value": v.amount,
            "unit": v.unit.value,
        }
        for r in report.results
        for v in r.values
    ]
    run_id: int = await db.fetchval(
        _SAVE_RUN,
        report.started_at,
        _ms(report.duration_s),
        trigger,
        report.status.value,
        json.dumps(results, default=str),
        json.dumps(samples),
    )
    return run_id


async def results_of_run(db: Executor, run_id: int) -> list[CheckResult]:
    rows = await db.fetch(
        """
        SELECT r.name, r.status, r.at, r.duration_ms, r.sentence::text AS sentence,
               r.details::text AS details, r.error,
               coalesce((SELECT jsonb_agg(jsonb_build_object('key', s.key, 'target', s.target,
                                          'value', s.value, 'unit', s.unit) ORDER BY s.id)
                         FROM check_samples s
                         WHERE s.run_id = r.run_id AND s.check_name = r.name), '[]')::text
                   AS samples
        FROM check_results r
        WHERE r.run_id = $1
        ORDER BY r.id
        """,
        run_id,
    )
    return [_result_of_row(row) for row in rows]


def _result_of_row(row: Any) -> CheckResult:
    values = tuple(
        Value(s["key"], float(s["value"]), Unit(s["unit"]), s["target"])
        for s in jsonb(row["samples"])
    )
    return CheckResult(
        name=row["name"],
        status=Status(row["status"]),
        sentence=Sentence.from_json(jsonb(row["sentence"])),
        values=values,
        details=tuple(Sentence.from_json(d) for d in jsonb(row["details"])),
        started_at=row["at"],
        duration_s=row["duration_ms"] / 1000,
        error=row["error"],
    )


async def latest_run_id(db: Executor, *, trigger: str | None = None) -> int | None:
    run_id: int | None = await db.fetchval(
        """
        SELECT id FROM check_runs WHERE $1::text IS NULL OR trigger = $1
        ORDER BY started_at DESC, id DESC LIMIT 1
        """,
        trigger,
    )
    return run_id


async def latest_results(db: Executor, names: list[str] | None = None) -> list[CheckResult]:
    """The newest stored result of each check (the alert rules and reports read these)."""
    rows = await db.fetch(
        """
        SELECT run_id, name FROM (
            SELECT DISTINCT ON (name) run_id, name, at, id FROM check_results
            WHERE $1::text[] IS NULL OR name = ANY($1)
            ORDER BY name, at DESC, id DESC
        ) newest
        """,
        names,
    )
    found: list[CheckResult] = []
    for row in rows:
        found.extend(r for r in await results_of_run(db, row["run_id"]) if r.name == row["name"])
    return found


async def value_at_or_before(
    db: Executor, check: str, key: str, at: datetime, target: str = ""
) -> tuple[datetime, float] | None:
    """The latest sample of one series taken at or before `at` (growth, trends)."""
    row = await db.fetchrow(
        """
        SELECT at, value FROM check_samples
        WHERE check_name = $1 AND key = $2 AND target = $3 AND at <= $4
        ORDER BY at DESC LIMIT 1
        """,
        check,
        key,
        target,
        at,
    )
    return None if row is None else (row["at"], float(row["value"]))


async def earliest_since(
    db: Executor, check: str, key: str, since: datetime, target: str = ""
) -> tuple[datetime, float] | None:
    row = await db.fetchrow(
        """
        SELECT at, value FROM check_samples
        WHERE check_name = $1 AND key = $2 AND target = $3 AND at >= $4
        ORDER BY at LIMIT 1
        """,
        check,
        key,
        target,
        since,
    )
    return None if row is None else (row["at"], float(row["value"]))


async def status_share(db: Executor, check: str, since: datetime) -> dict[Status, int]:
    """How many stored results of `check` since `since` had each status (uptime)."""
    rows = await db.fetch(
        "SELECT status, count(*) AS n FROM check_results WHERE name = $1 AND at >= $2 "
        "GROUP BY status",
        check,
        since,
    )
    return {Status(r["status"]): int(r["n"]) for r in rows}


async def prune(db: Executor, before: datetime) -> int:
    """Delete runs older than `before` (results and samples go with them)."""
    deleted: str = await db.execute("DELETE FROM check_runs WHERE started_at < $1", before)
    return rowcount(deleted)
