"""The monthly report from a seeded month: its figures are the data's, its charts real PNGs."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import matplotlib.image
import pytest

from jobs.context import JobDeps
from jobs.runner import run_now
from services.reports.build import build

JAKARTA = ZoneInfo("Asia/Jakarta")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Db = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy  # the seed's one connection


def oct_(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=JAKARTA)


async def _check_run(pool: Db, at: datetime, crit: str | None) -> None:
    run_id = await pool.fetchval(
        "INSERT INTO check_runs (started_at, duration_ms, trigger, status) "
        "VALUES ($1, 100, 'schedule', $2) RETURNING id",
        at,
        "crit" if crit else "ok",
    )
    for name in ("database", "redis", "payment", "system"):
        await pool.execute(
            "INSERT INTO check_results (run_id, name, status, at, duration_ms, summary, sentence) "
            "VALUES ($1, $2, $3, $4, 10, '', '{}')",
            run_id,
            name,
            "crit" if name == crit else "ok",
            at,
        )


async def _incident(
    pool: Db,
    number: int,
    priority: str,
    opened: datetime,
    ack_min: int,
    resolve_min: int,
    due_min: int,
    escalations: int,
) -> None:
    await pool.execute(
        "INSERT INTO tickets (id, customer_id, priority, category, subject, description, "
        "created_at, updated_at, response_due, resolution_due, first_response_at, resolved_at) "
        "VALUES ($1, 1, $2, 'payment', 's', 'd', $3, $3, $4, $5, $6, $7)",
        number,
        priority,
        opened,
        opened + timedelta(minutes=due_min),
        opened + timedelta(hours=24),
        opened + timedelta(minutes=ack_min),
        opened + timedelta(minutes=resolve_min),
    )
    await pool.execute(
        "INSERT INTO incidents (ticket_id, priority, source, level, opened_at, level_entered_at, "
        "acknowledged_at, resolved_at, escalations) "
        "VALUES ($1, $2, 'ticket', 1, $3, $3, $4, $5, $6)",
        number,
        priority,
        opened,
        opened + timedelta(minutes=ack_min),
        opened + timedelta(minutes=resolve_min),
        escalations,
    )


@pytest.fixture
async def october(pool: asyncpg.Pool) -> asyncpg.Pool:
    """A month of QuickCart: hourly checks (4 runs down), incidents, alerts, backups, runs."""
    # ~4,000 rows in one transaction on one connection, not ~4,000 commits through the pool
    async with pool.acquire() as conn, conn.transaction():
        await _seed_october(conn)
    return pool


async def _seed_october(pool: Db) -> None:
    down = {(10, 1): "database", (10, 2): "database", (10, 3): "database", (20, 5): "payment"}
    for day in range(1, 32):
        for hour in range(24):
            await _check_run(pool, oct_(day, hour), down.get((day, hour)))
        run_id = await pool.fetchval("SELECT max(id) FROM check_runs")
        await pool.execute(
            "INSERT INTO check_samples (run_id, at, check_name, key, value, unit) VALUES "
            "($1, $2, 'payment', 'success_rate_percent', $3, 'percent'), "
            "($1, $2, 'fraud', 'false_positive_percent', 4, 'percent')",
            run_id,
            oct_(day, 12),
            90.0 + day % 10,
        )
    await pool.execute("INSERT INTO users (id, first_name) VALUES (1, 'Budi')")
    for n, ack in enumerate((10, 10, 10, 30), start=1):  # P0: due 15 min, one missed
        await _incident(pool, n, "P0", oct_(2 + n, 9), ack, 120, 15, 1 if ack == 30 else 0)
    for n in (5, 6):  # P1: due 60 min, both met; one in the 4th week
        await _incident(pool, n, "P1", oct_(3 * n, 14), 30, 300, 60, 0)
    await _incident(pool, 7, "P1", datetime(2026, 11, 2, 9, tzinfo=JAKARTA), 1, 2, 60, 0)
    for n, (severity, day) in enumerate(
        [("critical", 1), ("critical", 9), ("warning", 9), ("warning", 30), ("critical", 31)]
    ):
        await pool.execute(
            "INSERT INTO alerts (fingerprint, source, alertname, labels, severity, state, "
            "fired_at) VALUES ($1, 'rule', 'x', '{}', $2, 'resolved', $3)",
            f"fp{n}",
            severity,
            oct_(day, 11),
        )
    await pool.execute(
        "INSERT INTO alerts (fingerprint, source, alertname, labels, severity, state, fired_at) "
        "VALUES ('nov', 'rule', 'x', '{}', 'critical', 'firing', $1)",
        datetime(2026, 11, 1, 1, tzinfo=JAKARTA),
    )
    for day in range(1, 32):
        await pool.execute(
            "INSERT INTO backup_verifications (at, kind, archive, archive_size, archive_mtime, "
            "ok, verdict, duration_ms) VALUES ($1, 'checksum', 'a', 1, $1, $2, 'ok', 10)",
            oct_(day, 4),
            day != 17,
        )
    for day in (3, 10, 17, 24, 31):
        await pool.execute(
            "INSERT INTO backup_verifications (at, kind, archive, archive_size, archive_mtime, "
            "ok, verdict, duration_ms) VALUES ($1, 'restore_test', 'a', 1, $1, $2, 'ok', 61000)",
            oct_(day, 5),
            day != 24,
        )
    for day in range(1, 13):
        await pool.execute(
            "INSERT INTO maintenance_runs (job, started_at, finished_at, status, summary, "
            "triggered_by) VALUES ('cache_cleanup', $1, $1, $2, $3, 'scheduler')",
            oct_(day, 3),
            "failed" if day in (4, 8) else "ok",
            f"run on day {day}",
        )


async def test_the_monthly_report_tells_the_months_figures(october: asyncpg.Pool) -> None:
    data, report = await build(
        october, "monthly", datetime(2026, 11, 1, 0, 0, tzinfo=JAKARTA), JAKARTA, language="en"
    )

    assert data.start == oct_(1) and data.end == datetime(2026, 11, 1, tzinfo=JAKARTA)
    assert data.check_runs == 31 * 24
    assert data.uptime_percent == pytest.approx((744 - 4) * 100 / 744)
    assert data.uptime_met is False  # 99.46 % misses the 99.5 % promise
    uptime_by_day = dict(data.uptime_by_day)
    assert uptime_by_day[oct_(10).date()] == pytest.approx(21 * 100 / 24)
    assert uptime_by_day[oct_(11).date()] == 100.0
    p0, p1 = data.incidents
    assert (p0.priority, p0.count, p0.sla_met, p0.sla_known) == ("P0", 4, 3, 4)
    assert p0.mtta_s == pytest.approx(15 * 60)
    assert p0.mttr_s == pytest.approx(120 * 60)
    assert (p1.priority, p1.count, p1.sla_percent) == ("P1", 2, 100.0)
    assert data.escalations == 1
    assert data.alerts_by_severity == {"critical": 3, "warning": 2}
    assert (data.backup_checks, data.backup_failures) == (31, 1)
    assert [ok for _at, ok, _s in data.restore_tests] == [True, True, True, False, True]
    assert data.runs_by_status == {"ok": 10, "failed": 2}
    assert dict(data.payment_by_day)[oct_(13).date()] == 93.0
    assert data.false_positive_percent == pytest.approx(4.0)

    assert "Uptime: 99.46 % (target 99.5 %) ❌" in report.headline
    assert "Incidents: 6, escalations: 1, alerts: 5" in report.headline
    assert "restore tests: 4 of 5 ok" in report.headline


async def test_the_html_opens_and_its_charts_are_real_pngs(october: asyncpg.Pool) -> None:
    _data, report = await build(
        october, "monthly", datetime(2026, 11, 1, 0, 0, tzinfo=JAKARTA), JAKARTA, language="en"
    )

    html = report.html
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</body></html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4  # uptime, incidents, payments, and the insights' MTTA / MTTR
    for encoded in images:
        png = base64.b64decode(encoded)
        assert png.startswith(PNG_MAGIC)
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 300
    assert set(report.charts) == {"uptime", "incidents", "payments"}
    assert "<td>P0</td><td>4</td><td>4</td><td>75.00 %</td><td>15.0 min</td>" in html
    assert "run on day 4" in html


async def test_the_monthly_maintenance_job_sends_the_report_as_a_document(
    october: asyncpg.Pool, make_deps: Callable[..., JobDeps]
) -> None:
    deps = make_deps(datetime(2026, 11, 1, 0, 0, 5, tzinfo=JAKARTA))

    run = await run_now("monthly_maintenance", deps, triggered_by="scheduler")

    tasks = {t["name"]: t["status"] for t in run.details["tasks"]}
    assert list(tasks) == [
        "security_audit",
        "performance_optimization",
        "fraud_model_update",
        "database_optimization",
        "documentation_review",
        "compliance_check",
    ]
    assert tasks["fraud_model_update"] == "skipped"  # no MONITOR_DATABASE_URL here
    document = await october.fetchval(
        "SELECT payload FROM outbox WHERE kind = 'document' AND owner = 'report'"
    )
    html = base64.b64decode(document["document"]["base64"]).decode()
    assert document["document"]["filename"] == "quickcart-monthly-report-2026-10-01.html"
    assert "99.46 %" in html
