"""The payment probe against the Pakasir emulator (answering, failing, hanging) and a
monitored database with a payments table."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg

from services.checks.cli_render import report_as_dict
from services.checks.model import CheckReport, Status
from services.checks.probes import payment
from services.checks.runner import run_one
from tests.integration.checks.conftest import API_KEY, pakasir_targets


async def test_pakasir_answering_is_ok_with_its_latency(make_ctx, pakasir):
    result = await run_one("payment", payment.probe, make_ctx(**pakasir_targets(pakasir)))
    assert result.status is Status.OK, result.summary
    assert result.value("gateway_up") == 1
    assert 0 < result.value("gateway_latency_seconds") < 1
    assert pakasir.requests == [("GET", "/api/transactiondetail")]


async def test_with_gateway_and_statistics_all_fine_it_is_ok(
    make_ctx, pakasir, empty_db_url, clock
):
    await _payments(empty_db_url, clock, completed=20, failed=0, seconds=12)
    ctx = make_ctx(monitor_database_url=empty_db_url, **pakasir_targets(pakasir))
    result = await run_one("payment", payment.probe, ctx)
    assert result.status is Status.OK, result.summary
    assert result.summary.startswith("Pakasir answers in")
    assert result.value("success_rate_percent") == 100
    assert result.value("avg_payment_seconds") == 12


async def test_pakasir_failing_with_503_is_critical(make_ctx, pakasir):
    pakasir.set_mode("fail", status=503)
    result = await run_one("payment", payment.probe, make_ctx(**pakasir_targets(pakasir)))
    assert result.status is Status.CRIT
    assert result.summary == "Pakasir answers with HTTP 503."
    assert result.value("gateway_up") == 0


async def test_pakasir_hanging_is_critical_within_the_timeout(make_ctx, pakasir):
    pakasir.set_mode("hang")
    ctx = make_ctx({"payment": {"timeout_s": 1.0}}, **pakasir_targets(pakasir))
    result = await run_one("payment", payment.probe, ctx)
    assert result.status is Status.CRIT
    assert result.summary.startswith("Pakasir did not answer within")
    assert result.duration_s < 1.5


async def test_a_wrong_api_key_is_a_warning_and_no_key_appears_anywhere(make_ctx, pakasir):
    targets = pakasir_targets(pakasir, pakasir_api_key="wrong-" + API_KEY)
    result = await run_one("payment", payment.probe, make_ctx(**targets))
    assert result.status is Status.WARN
    assert "HTTP 401" in result.summary
    report = CheckReport(result.started_at, 0.1, (result,))
    assert API_KEY not in json.dumps(report_as_dict(report))


async def test_low_success_rate_and_slow_payments_are_judged_by_the_seed(
    make_ctx, empty_db_url, clock
):
    await _payments(empty_db_url, clock, completed=17, failed=3, seconds=45)
    result = await run_one("payment", payment.probe, make_ctx(monitor_database_url=empty_db_url))
    assert result.status is Status.CRIT  # 85 % < 90 %
    assert result.summary == "85.0 % of 20 payments succeeded in the last 60 minutes."
    text = [d.render() for d in result.details]
    assert "A payment takes 45 s on average." in text


async def test_payments_older_than_the_window_do_not_count(make_ctx, empty_db_url, clock):
    await _payments(empty_db_url, clock, completed=0, failed=5, seconds=10, age=timedelta(hours=2))
    result = await run_one("payment", payment.probe, make_ctx(monitor_database_url=empty_db_url))
    assert result.value("payments_finished") == 0
    assert "No finished payments in the last 60 minutes." in [d.render() for d in result.details]


async def _payments(url, clock, *, completed, failed, seconds, age=timedelta(minutes=10)):
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS payments (id serial, status text, amount int, "
            "created_at timestamptz, completed_at timestamptz)"
        )
        created = clock.now() - age
        for _ in range(completed):
            await conn.execute(
                "INSERT INTO payments (status, amount, created_at, completed_at) "
                "VALUES ('completed', 50000, $1, $2)",
                created,
                created + timedelta(seconds=seconds),
            )
        for _ in range(failed):
            await conn.execute(
                "INSERT INTO payments (status, amount, created_at) VALUES ('expired', 50000, $1)",
                created,
            )
        await conn.execute(
            "INSERT INTO payments (status, amount, created_at) VALUES ('pending', 1, $1)", created
        )
    finally:
        await conn.close()
