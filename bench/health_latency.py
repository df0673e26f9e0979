"""/health end to end: the real bot polling the Telegram emulator, every probe configured.

Prints p50/p95 of the time from sending /health to the card arriving, over N calls, and
beside it the slowest single probe of each run (from check_results), so the overhead of
running the probes together is visible.

    .venv/bin/python bench/health_latency.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.embedded import start_postgres, start_redis
from bot.keys import POOL
from bot.runtime import create_app
from bot.settings import Settings
from bot.workers import CATCH_UP_ON_START
from sandbox.pakasir import PakasirConfig, PakasirEmulator
from sandbox.telegram.client import EmulatorClient
from sandbox.telegram.config import EmulatorConfig, LimitConfig
from sandbox.telegram.server import TelegramEmulator
from services.rules import Rules
from tests.e2e.conftest import FAST_DELIVERY

ADMIN = 7001


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def prepare(root: Path, pg_url_for, bin_dir: Path) -> dict[str, str]:
    admin = await asyncpg.connect(pg_url_for("postgres"))
    for name in ("qc_bench_bot", "qc_bench_shop"):
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    shop = pg_url_for("qc_bench_shop")
    conn = await asyncpg.connect(shop)
    await conn.execute(
        "CREATE TABLE payments (status text, amount int, created_at timestamptz, "
        "completed_at timestamptz);"
        "INSERT INTO payments SELECT 'completed', 50000, now() - interval '5 min', now() "
        "FROM generate_series(1, 500);"
        "CREATE TABLE fraud_reviews (status text, outcome text, reviewed_at timestamptz);"
        "INSERT INTO fraud_reviews SELECT 'pending', NULL, NULL FROM generate_series(1, 20);"
    )
    await conn.close()
    backups = root / "backups"
    backups.mkdir()
    archive = backups / "quickcart.dump"
    await asyncio.to_thread(
        subprocess.run, [str(bin_dir / "pg_dump"), "-Fc", "-f", str(archive), shop], check=True
    )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (backups / "quickcart.dump.sha256").write_text(f"{digest}  quickcart.dump\n")
    logs = root / "app.log"
    logs.write_text(
        "".join(json.dumps({"level": "INFO", "message": f"order {i}"}) + "\n" for i in range(5000))
    )
    return {
        "bot": pg_url_for("qc_bench_bot"),
        "shop": shop,
        "backups": str(backups),
        "logs": str(logs),
    }


async def main(calls: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="qc-bench-health-"))
    pg = await asyncio.to_thread(start_postgres, root / "pg", delete_on_stop=True)
    redis = await asyncio.to_thread(start_redis, root / "redis")
    try:
        urls = await prepare(root, pg.url_for, pg.bin_dir)
        emulator_config = EmulatorConfig(limits=LimitConfig(enabled=False))
        async with (
            TelegramEmulator(emulator_config) as emulator,
            PakasirEmulator(PakasirConfig(api_key="bench-key")) as pakasir,
        ):
            pakasir.add_transaction("PROBE-1", 10_000)
            tg = EmulatorClient(emulator.base_url)
            await tg.create_user(ADMIN, first_name="Rina", language_code="en")
            chat = await tg.create_chat(
                type="supergroup", title="Admin", members=[ADMIN], admins=[ADMIN]
            )
            settings = Settings(
                BOT_TOKEN=emulator_config.token,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=urls["bot"],
                REDIS_URL=redis.url(1),
                DATA_DIR=root / "data",
                ADMIN_IDS=[ADMIN],
                ADMIN_CHAT_ID=chat["id"],
                SUPPORT_CHAT_ID=chat["id"],
                DEFAULT_LOCALE="en",
                MONITOR_DATABASE_URL=urls["shop"],
                MONITOR_REDIS_URL=redis.url(2),
                PAKASIR_BASE_URL=pakasir.base_url,
                PAKASIR_PROJECT="quickcart",
                PAKASIR_API_KEY="bench-key",
                PAKASIR_PROBE_ORDER_ID="PROBE-1",
                BACKUP_DIR=Path(urls["backups"]),
                LOG_FILES=urls["logs"],
                _env_file=None,  # type: ignore[call-arg]
            )
            # A latency bench: the bot's own pacing (20 messages/min per group, as Telegram
            # allows) would measure the wait for a token, not /health; it is opened up here.
            unpaced = Rules({"delivery": FAST_DELIVERY})
            app = create_app(settings, rules=unpaced)
            app[CATCH_UP_ON_START] = False
            runner = web.AppRunner(app, shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            baseline: list[float] = []
            for _ in range(20):  # the same round trip without probes: /help
                t0 = time.perf_counter()
                sent = await tg.send_text(ADMIN, chat["id"], "/help")
                await tg.wait_for_message(chat["id"], after_message_id=sent["message_id"])
                baseline.append(time.perf_counter() - t0)
            latencies: list[float] = []
            for _ in range(calls):
                t0 = time.perf_counter()
                sent = await tg.send_text(ADMIN, chat["id"], "/health")
                await tg.wait_for_message(chat["id"], after_message_id=sent["message_id"])
                latencies.append(time.perf_counter() - t0)
            pool = runner.app[POOL]
            rows = await pool.fetch(
                "SELECT r.run_id, max(r.duration_ms) AS slowest, c.duration_ms AS total "
                "FROM check_results r JOIN check_runs c ON c.id = r.run_id "
                "WHERE c.trigger = 'health' GROUP BY r.run_id, c.duration_ms"
            )
            per_probe = await pool.fetch(
                "SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50 "
                "FROM check_results GROUP BY name ORDER BY p50 DESC"
            )
            await runner.cleanup()
            await tg.close()
        slowest = [r["slowest"] / 1000 for r in rows]
        totals = [r["total"] / 1000 for r in rows]
        report(calls, latencies, totals, slowest, per_probe)
        help_p50 = statistics.median(baseline) * 1000
        print(f"  baseline /help round trip (20 calls): p50 {help_p50:.1f} ms")
    finally:
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(pg.stop)


def report(calls, latencies, totals, slowest, per_probe) -> None:
    def line(label: str, values: list[float]) -> str:
        p50, p95 = percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000
        top = max(values) * 1000
        return f"  {label:<32} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {top:7.1f} ms"

    overhead = (statistics.median(totals) - statistics.median(slowest)) * 1000
    print(f"/health end to end over {calls} calls (emulator -> bot -> all 8 probes -> card):")
    print(line("send /health -> card arrives", latencies))
    print(line("probes run together (runner)", totals))
    print(line("slowest single probe per run", slowest))
    print(f"  overhead of running together: p50 {overhead:.1f} ms")
    print("  per probe p50: " + ", ".join(f"{r['name']} {r['p50']:.0f} ms" for r in per_probe))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args().calls))
