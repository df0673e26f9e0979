"""`quickcart-ops check`: the terminal table, the JSON document and Nagios exit codes."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from services.checks.cli_render import CliConfig, run_for_cli
from services.checks.config import Targets
from tests.integration.checks.conftest import fill_shop, pg_dump, write_sidecar


def config(**targets) -> CliConfig:
    return CliConfig(targets=Targets(**targets), locale="en")


async def _archive(pg_server, url, folder, clock, *, hours=1.0, sidecar=True):
    await fill_shop(url, 100)
    archive = pg_dump(pg_server, url, folder / "nightly.dump", sidecar=sidecar)
    when = (clock.now() - timedelta(hours=hours)).timestamp()
    os.utime(archive, (when, when))
    return archive


def restore_bin(pg_server) -> str:
    return str(pg_server.bin_dir / "pg_restore")


async def test_all_ok_exits_0(pg_server, empty_db_url, tmp_path, clock):
    await _archive(pg_server, empty_db_url, tmp_path, clock)
    cfg = config(backup_dir=tmp_path, pg_restore_bin=restore_bin(pg_server))
    text, code = await run_for_cli(cfg, ["backup"], clock=clock)
    assert code == 0, text
    assert text.splitlines()[0].startswith("CHECKS OK - 1 ok in ")


async def test_a_warning_exits_1(pg_server, empty_db_url, tmp_path, clock):
    await _archive(pg_server, empty_db_url, tmp_path, clock, sidecar=False)
    cfg = config(backup_dir=tmp_path, pg_restore_bin=restore_bin(pg_server))
    text, code = await run_for_cli(cfg, ["backups"], clock=clock)
    assert code == 1
    assert "WARNING" in text.splitlines()[1]
    assert "nightly.dump has no .sha256 file" in text


async def test_something_critical_exits_2_and_json_says_so(
    pg_server, empty_db_url, tmp_path, clock
):
    archive = await _archive(pg_server, empty_db_url, tmp_path, clock)
    write_sidecar(archive, "f" * 64)
    cfg = config(backup_dir=tmp_path, pg_restore_bin=restore_bin(pg_server))
    text, code = await run_for_cli(cfg, ["backups"], as_json=True, clock=clock)
    document = json.loads(text)
    assert code == 2 == document["exit_code"]
    assert document["status"] == "crit"
    [check] = document["checks"]
    assert check["name"] == "backups" and check["status"] == "crit"
    assert {"key": "checksum_ok", "target": "", "value": 0.0, "unit": "count"} in check["values"]


async def test_an_unconfigured_check_exits_3(tmp_path):
    text, code = await run_for_cli(config(), ["db"])
    assert code == 3
    assert "MONITOR_DATABASE_URL is not set" in text


async def test_an_unknown_name_exits_3():
    text, code = await run_for_cli(config(), ["dtabase"])
    assert code == 3
    assert text.startswith("CHECKS UNKNOWN - no check named 'dtabase'")


async def test_critical_outranks_unknown(hanging_postgres, tmp_path):
    cfg = CliConfig(
        targets=Targets(monitor_database_url=hanging_postgres.url),
        locale="en",
        rules_file=_rules(tmp_path),
    )
    text, code = await run_for_cli(cfg, ["database", "redis"])
    assert code == 2, text


async def test_the_run_is_stored_in_the_bots_database(db_url):
    cfg = CliConfig(targets=Targets(), database_url=db_url, locale="en")
    text, _code = await run_for_cli(cfg, ["system"], as_json=True)
    assert json.loads(text)["run_id"] is not None


def _rules(folder):
    path = folder / "rules.yaml"
    path.write_text("checks:\n  budget_s: 1.0\n")
    return path
