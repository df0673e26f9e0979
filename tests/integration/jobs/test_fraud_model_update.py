"""The monthly fraud model update against a real QuickCart-shaped database: per rule, alerts,
confirmed fraud, false positives, precision and the change against the month before; rules over
the 5 % false-positive target get a score threshold from the data; 100 new labelled cases run
FRAUD_RETRAIN_COMMAND, time-boxed, and its result is recorded; the report goes to the fraud
analysts. Checked figure by figure, on hand-made cases and on the sandbox's demo data."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from jobs.context import JobContext, JobDeps
from jobs.monthly_reviews import fraud_model_update
from sandbox.world import demo_db
from services import roster
from services.checks.config import Targets
from services.maintenance.runs import RunStatus
from services.users import Role

from .conftest import ADMIN_CHAT

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=JAKARTA)
FITRI = 3101  # fraud analyst


async def quickcart(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await conn.execute(demo_db.SCHEMA)
    await conn.execute(
        "INSERT INTO customers (name, email, created_at) VALUES ('A', 'a@x.id', $1)",
        NOW - timedelta(days=90),
    )
    return conn


async def review(
    conn: asyncpg.Connection, rule: str, score: float, outcome: str | None, days_ago: float
) -> None:
    at = NOW - timedelta(days=days_ago)
    order = await conn.fetchval(
        "INSERT INTO orders (code, customer_id, total, status, created_at)"
        " VALUES ('QC-' || gen_random_uuid(), 1, 100000, 'paid', $1) RETURNING id",
        at,
    )
    await conn.execute(
        "INSERT INTO fraud_reviews (order_id, score, rule, status, outcome, created_at,"
        " reviewed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        order,
        score,
        rule,
        "pending" if outcome is None else "reviewed",
        outcome,
        at,
        None if outcome is None else at + timedelta(hours=3),
    )


async def many(conn: asyncpg.Connection, rule: str, outcome: str, n: int, days_ago: float,
               score: float = 0.9) -> None:  # fmt: skip
    for i in range(n):
        await review(conn, rule, round(score - i * 0.001, 3), outcome, days_ago)


def context(make_deps: Callable[..., JobDeps], url: str, **kw: Any) -> JobContext:
    targets = Targets(monitor_database_url=url, fraud_retrain_command=kw.pop("command", None))
    deps = make_deps(NOW, targets=targets, **kw)
    return JobContext(deps, run_id=1, job="monthly_maintenance", triggered_by="test")


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


async def sent_text(pool: asyncpg.Pool, chat_id: int) -> str:
    rows = await pool.fetch(
        "SELECT payload->>'text' AS t FROM outbox WHERE chat_id = $1 ORDER BY id", chat_id
    )
    assert rows, f"nothing sent to {chat_id}"
    return plain(rows[-1]["t"])


async def test_each_rules_figures_change_and_suggested_threshold(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, empty_db_url: str
) -> None:
    await pool.execute(
        "INSERT INTO users (id, first_name, language) VALUES ($1, 'Fitri', 'en')", FITRI
    )
    await roster.add_member(
        pool, user_id=FITRI, display_name="Fitri", roles=[Role.FRAUD_ANALYST], added_by=None
    )
    conn = await quickcart(empty_db_url)
    try:
        # This month: velocity 12 confirmed, 8 legitimate, 2 pending.
        await many(conn, "velocity", "confirmed_fraud", 12, 5)
        await many(conn, "velocity", "legitimate", 8, 6)
        for _ in range(2):
            await review(conn, "velocity", 0.8, None, 0.2)
        # new_device: 4 false positives at low scores, then 8 confirmed and 8 legitimate above.
        for score in (0.61, 0.62, 0.63, 0.64):
            await review(conn, "new_device", score, "false_positive", 10)
        await many(conn, "new_device", "confirmed_fraud", 8, 11, score=0.95)
        await many(conn, "new_device", "legitimate", 8, 12, score=0.79)
        # The month before: velocity 5 confirmed, 4 legitimate, 1 false positive.
        await many(conn, "velocity", "confirmed_fraud", 5, 40)
        await many(conn, "velocity", "legitimate", 4, 41)
        await review(conn, "velocity", 0.7, "false_positive", 42)
        # Older than both windows: not counted.
        await many(conn, "velocity", "false_positive", 3, 70)
    finally:
        await conn.close()

    outcome = await fraud_model_update(context(make_deps, empty_db_url))

    assert outcome.status is RunStatus.WARN
    rules = {r["rule"]: r for r in outcome.details["rules"]}
    assert rules["velocity"] | {"suggestion": None} == {
        "rule": "velocity",
        "alerts": 22,
        "labelled": 20,
        "confirmed": 12,
        "false_positives": 0,
        "precision": 60.0,
        "false_positive_percent": 0.0,
        "previous_alerts": 10,
        "previous_precision": 50.0,
        "previous_false_positive_percent": 10.0,
        "precision_change": 10.0,
        "false_positive_change": -10.0,
        "over_target": False,
        "suggestion": None,
    }
    nd = rules["new_device"]
    assert (nd["alerts"], nd["labelled"], nd["confirmed"], nd["false_positives"]) == (20, 20, 8, 4)
    assert (nd["precision"], nd["false_positive_percent"], nd["over_target"]) == (40.0, 20.0, True)
    assert nd["previous_alerts"] is None and nd["precision_change"] is None
    assert nd["suggestion"] == {
        "threshold": 0.783,  # the lowest score above the four false positives
        "false_positive_percent": 0.0,
        "fraud_kept_percent": 100.0,
        "alerts_kept": 16,
    }
    assert outcome.details["flagged"] == ["new_device"]
    assert outcome.details["new_labelled"] == 40
    assert outcome.details["retrain"] == {"ran": False, "reason": "too_few_cases"}
    assert outcome.details["told"] == [FITRI]

    text = await sent_text(pool, FITRI)
    assert "Monthly fraud model update (2026-11-01 – 2026-12-01)" in text, text
    assert (
        "velocity: 22 alerts, 12 confirmed fraud, 0 false positives, precision 60.0 % (+10.0 pt),"
        " false positives 0.0 % (-10.0 pt)" in text
    ), text
    assert (
        "⚠️ new_device: 20 alerts, 8 confirmed fraud, 4 false positives, precision 40.0 % (new),"
        " false positives 20.0 % (new)" in text
    ), text
    assert (
        "new_device: raise the score threshold to 0.783: 0.0 % false positives, 100.0 % of the"
        " confirmed fraud still caught (16 alerts)." in text
    ), text
    assert "40 new labelled cases (retraining needs 100): not retrained." in text
    stored = await pool.fetchrow(
        "SELECT labelled, new_labelled, retrained FROM fraud_model_updates"
    )
    assert dict(stored) == {"labelled": 40, "new_labelled": 40, "retrained": False}


RETRAIN = (
    f"{sys.executable} -c \"import os; print('trained on', os.environ['QC_FRAUD_NEW_CASES'])\""
)


async def test_a_hundred_new_cases_retrain_once_and_a_hung_command_is_stopped(
    make_deps: Callable[..., JobDeps], pool: asyncpg.Pool, empty_db_url: str
) -> None:
    conn = await quickcart(empty_db_url)
    try:
        await many(conn, "velocity", "confirmed_fraud", 60, 3)
        await many(conn, "velocity", "legitimate", 40, 4)
    finally:
        await conn.close()

    first = await fraud_model_update(context(make_deps, empty_db_url, command=RETRAIN))
    retrain = first.details["retrain"]
    assert (retrain["ran"], retrain["status"], retrain["exit_code"]) == (True, "ok", 0)
    assert retrain["output"].strip() == "trained on 100"
    assert first.status is RunStatus.OK
    assert "Retrained on 100 new labelled cases" in await sent_text(pool, ADMIN_CHAT)

    # A day later the same 100 cases are not new: no second retraining.
    ctx = context(make_deps, empty_db_url, command=RETRAIN)
    ctx.deps.clock.current = NOW + timedelta(days=1)  # type: ignore[attr-defined]
    again = await fraud_model_update(ctx)
    assert again.details["new_labelled"] == 0 and again.details["retrain"]["ran"] is False

    # Forget the retraining: a command that hangs is stopped at its time limit.
    await pool.execute("DELETE FROM fraud_model_updates")
    hung = context(
        make_deps,
        empty_db_url,
        command=f"{sys.executable} -c 'import time; time.sleep(30)'",
        rules={"fraud_model": {"retrain_timeout_s": 0.5}},
    )
    stopped = await fraud_model_update(hung)
    assert stopped.details["retrain"]["status"] == "timeout" and stopped.status is RunStatus.WARN
    assert await pool.fetchval("SELECT count(*) FROM fraud_model_updates WHERE retrained") == 1


@pytest.mark.parametrize("window", [(30, 0), (60, 30)])
async def test_the_sandbox_data_figure_by_figure(
    make_deps: Callable[..., JobDeps],
    pool: asyncpg.Pool,
    empty_db_url: str,
    window: tuple[int, int],
) -> None:
    await demo_db.seed(empty_db_url, NOW)
    outcome = await fraud_model_update(context(make_deps, empty_db_url))
    rules = {r["rule"]: r for r in outcome.details["rules"]}
    assert set(rules) == {"velocity", "new_device", "address_mismatch", "high_amount"}
    start, end = NOW - timedelta(days=window[0]), NOW - timedelta(days=window[1])
    conn = await asyncpg.connect(empty_db_url)
    try:
        rows = await conn.fetch(
            """
            SELECT rule, count(*) AS alerts, count(outcome) AS labelled,
                   count(*) FILTER (WHERE outcome = 'confirmed_fraud') AS confirmed,
                   count(*) FILTER (WHERE outcome = 'false_positive') AS fp
            FROM fraud_reviews WHERE created_at >= $1 AND created_at < $2 GROUP BY rule
            """,
            start,
            end,
        )
    finally:
        await conn.close()
    for row in rows:
        got = rules[row["rule"]]
        precision = round(row["confirmed"] * 100.0 / row["labelled"], 2)
        fp_rate = round(row["fp"] * 100.0 / row["labelled"], 2)
        if window == (30, 0):
            assert got["alerts"] == row["alerts"] and got["labelled"] == row["labelled"]
            assert (got["confirmed"], got["false_positives"]) == (row["confirmed"], row["fp"])
            assert (got["precision"], got["false_positive_percent"]) == (precision, fp_rate)
            assert got["over_target"] == (fp_rate > 5.0), row["rule"]
        else:
            assert got["previous_alerts"] == row["alerts"]
            assert got["previous_precision"] == precision
            assert got["previous_false_positive_percent"] == fp_rate
            change = round(got["false_positive_percent"] - fp_rate, 2)
            assert got["false_positive_change"] == pytest.approx(change, abs=0.011)
    # The demo's story: new_device misfires at low scores (a threshold fixes it), high_amount
    # got worse this month, velocity stays precise.
    assert rules["new_device"]["over_target"] and rules["new_device"]["suggestion"] is not None
    assert rules["new_device"]["suggestion"]["false_positive_percent"] <= 5.0
    assert rules["high_amount"]["over_target"] and rules["high_amount"]["false_positive_change"] > 0
    assert not rules["velocity"]["over_target"]
    assert outcome.details["new_labelled"] >= 100  # enough to retrain, but no command is set
    assert outcome.details["retrain"] == {"ran": False, "reason": "no_command"}
