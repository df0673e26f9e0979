"""All probes at once: a hung PostgreSQL cannot hold the run past its budget; every run is
stored with its samples; a probe that raises is unknown with a reason and no secret."""

from __future__ import annotations

import asyncio
import time

from services.checks import store
from services.checks.model import Outcome, Sentence, Status
from services.checks.runner import run_checks
from tests.integration.checks.conftest import API_KEY, pakasir_targets


async def test_every_probe_answers_within_budget_while_the_monitored_postgres_hangs(
    make_ctx, hanging_postgres, pakasir, redis_url, redis_client, pool, tmp_path
):
    ctx = make_ctx(
        {"budget_s": 2.0},
        db=pool,
        redis=redis_client,
        monitor_database_url=hanging_postgres.url,
        monitor_redis_url=redis_url,
        backup_dir=tmp_path,
        log_files=str(tmp_path / "*.log"),
        **pakasir_targets(pakasir),
    )
    t0 = time.perf_counter()
    report = await run_checks(ctx, trigger="health")
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0
    database = report.get("database")
    assert database is not None and database.status is Status.CRIT
    assert database.summary == "No answer within 2.0 s: the target hangs."
    assert len(hanging_postgres.writers) >= 1, "the probe did connect to the hung server"
    assert report.get("redis").status is not Status.CRIT
    assert report.get("bot").status is Status.OK
    assert report.exit_code == 2


async def test_every_run_is_stored_with_results_and_samples(make_ctx, pool, redis_client):
    ctx = make_ctx(db=pool, redis=redis_client)
    report = await run_checks(ctx, ["system", "bot", "database"], trigger="schedule")
    assert report.run_id is not None
    stored = {r.name: r for r in await store.results_of_run(pool, report.run_id)}
    assert set(stored) == {"system", "bot", "database"}
    assert stored["database"].status is Status.UNKNOWN
    assert (
        stored["database"].summary == "MONITOR_DATABASE_URL is not set, so this check cannot run."
    )
    assert stored["system"].value("cpu_percent") == report.get("system").value("cpu_percent")
    samples = await pool.fetchval(
        "SELECT count(*) FROM check_samples WHERE run_id = $1", report.run_id
    )
    assert samples == sum(len(r.values) for r in report.results)
    latest = await store.latest_results(pool, ["bot"])
    assert [r.name for r in latest] == ["bot"]


async def test_probes_run_at_the_same_time(make_ctx):
    async def slow(_ctx) -> Outcome:
        await asyncio.sleep(0.3)  # a stand-in for a slow remote call
        return Outcome(Status.OK, Sentence("fine"))

    ctx = make_ctx()
    t0 = time.perf_counter()
    report = await run_checks(
        ctx, ["system", "redis", "fraud"], probes={"system": slow, "redis": slow, "fraud": slow}
    )
    assert time.perf_counter() - t0 < 0.6
    assert report.status is Status.OK


async def test_a_probe_that_raises_is_unknown_with_its_reason_and_no_secret(make_ctx):
    async def broken(_ctx) -> Outcome:
        raise RuntimeError(f"bad answer from https://pakasir/api?api_key={API_KEY}")

    ctx = make_ctx(pakasir_api_key=API_KEY)
    report = await run_checks(ctx, ["payment"], probes={"payment": broken})
    result = report.results[0]
    assert result.status is Status.UNKNOWN
    assert API_KEY not in result.summary and API_KEY not in (result.error or "")
    assert result.error == "RuntimeError: bad answer from https://pakasir/api?api_key=***"
