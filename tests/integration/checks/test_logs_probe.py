"""Log analysis over rotated JSON-lines files, read incrementally with offsets in PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from services.checks.model import Status
from services.checks.probes import logs
from services.checks.runner import run_one


def write(path: Path, clock, *records: dict, mode: str = "a", newline: bool = True) -> None:
    with path.open(mode) as handle:
        for number, record in enumerate(records):
            record.setdefault("timestamp", clock.now().isoformat())
            end = "\n" if newline or number < len(records) - 1 else ""
            handle.write(json.dumps(record) + end)


def info(n: int) -> list[dict]:
    return [{"level": "INFO", "message": f"order {i} paid"} for i in range(n)]


def error(message: str) -> dict:
    return {"level": "ERROR", "message": message}


async def test_errors_are_counted_once_across_runs(make_ctx, pool, tmp_path, clock):
    log = tmp_path / "app.log"
    write(
        log,
        clock,
        *info(97),
        error("Pakasir timeout for order 17"),
        error("Pakasir timeout for order 18"),
        error("DB pool exhausted"),
    )
    ctx = make_ctx(db=pool, log_files=str(tmp_path / "*.log"))
    first = await run_one("logs", logs.probe, ctx)
    assert first.value("lines") == 100 and first.value("errors") == 3
    assert first.status is Status.WARN  # 3 % > 1 %
    assert "2× Pakasir timeout for order #" in [d.render() for d in first.details]
    second = await run_one("logs", logs.probe, ctx)
    assert second.value("lines") == 100, "nothing new was written, nothing new is counted"
    assert second.value("bytes_read") == 0


async def test_rotation_by_rename_loses_no_line_and_counts_none_twice(
    make_ctx, pool, tmp_path, clock
):
    log = tmp_path / "app.log"
    write(log, clock, *info(10))
    ctx = make_ctx(db=pool, log_files=str(log))
    await run_one("logs", logs.probe, ctx)
    write(log, clock, *info(5), error("written just before rotation"))
    log.rename(tmp_path / "app.log.1")
    write(log, clock, *info(3), error("written just after rotation"), mode="w")
    result = await run_one("logs", logs.probe, ctx)
    assert result.value("lines") == 10 + 6 + 4
    assert result.value("errors") == 2


async def test_rotated_files_matched_by_the_glob_are_not_read_again(
    make_ctx, pool, tmp_path, clock
):
    log = tmp_path / "app.log"
    write(log, clock, *info(10))
    ctx = make_ctx(db=pool, log_files=f"{tmp_path}/app.log, {tmp_path}/app.log.*")
    await run_one("logs", logs.probe, ctx)
    log.rename(tmp_path / "app.log.1")
    write(log, clock, *info(2), mode="w")
    result = await run_one("logs", logs.probe, ctx)
    assert result.value("lines") == 12


async def test_copytruncate_starts_the_file_again(make_ctx, pool, tmp_path, clock):
    log = tmp_path / "app.log"
    write(log, clock, *info(20))
    ctx = make_ctx(db=pool, log_files=str(log))
    await run_one("logs", logs.probe, ctx)
    write(log, clock, error("after truncation"), mode="w")
    result = await run_one("logs", logs.probe, ctx)
    assert result.value("lines") == 21 and result.value("errors") == 1


async def test_a_line_still_being_written_waits_for_the_next_run(make_ctx, pool, tmp_path, clock):
    log = tmp_path / "app.log"
    write(log, clock, *info(2), error("half"), newline=False)
    ctx = make_ctx(db=pool, log_files=str(log))
    first = await run_one("logs", logs.probe, ctx)
    assert first.value("lines") == 2 and first.value("errors") == 0
    with log.open("a") as handle:
        handle.write("\n")
    second = await run_one("logs", logs.probe, ctx)
    assert second.value("lines") == 3 and second.value("errors") == 1


async def test_five_fraud_events_in_five_minutes_are_critical(make_ctx, pool, tmp_path, clock):
    log = tmp_path / "app.log"
    fraud = [
        {"level": "WARNING", "event": "fraud_detected", "message": "velocity"} for _ in range(5)
    ]
    security = [{"level": "WARNING", "event": "login_failed"} for _ in range(3)]
    old = [
        {
            "level": "ERROR",
            "message": "long ago",
            "timestamp": (clock.now() - timedelta(hours=2)).isoformat(),
        }
    ]
    write(log, clock, *old, *info(50), *fraud, *security)
    result = await run_one("logs", logs.probe, make_ctx(db=pool, log_files=str(log)))
    assert result.status is Status.CRIT
    assert result.summary == "5 fraud_detected events in the last 5 minutes."
    assert result.value("security_events") == 3
    assert result.value("errors") == 0, "the error two hours ago is outside the window"


async def test_loguru_serialized_lines_are_understood(make_ctx, pool, tmp_path, clock):
    log = tmp_path / "app.log"
    record = {
        "text": "boom\n",
        "record": {
            "level": {"name": "ERROR"},
            "message": "boom",
            "time": {"timestamp": clock.now().timestamp()},
            "extra": {},
        },
    }
    log.write_text(json.dumps(record) + "\n" + "not json at all\n")
    result = await run_one("logs", logs.probe, make_ctx(db=pool, log_files=str(log)))
    assert result.value("lines") == 2 and result.value("errors") == 1
