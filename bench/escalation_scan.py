"""Escalation scan benchmark: 100,000 open incidents of which 1 % are due.

    .venv/bin/python bench/escalation_scan.py [--tickets 100000] [--due-share 0.01]

Prints (1) the EXPLAIN of the due-item query, showing it reads the partial index on
next_deadline; (2) how long one scan takes to escalate everything due; (3) how late
escalations fire after their deadline when the real worker (SystemClock, wakes at the next
deadline or every 15 s) handles deadlines spread over the next 20 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bot.embedded import start_postgres
from services import roster
from services.clock import SystemClock
from services.escalation.context import EscalationContext
from services.escalation.policy import EscalationRules
from services.escalation.scan import EscalationWorker, scan_once
from services.storage.db import connect, create_pool, migrate
from services.users import Role

FILL = """
WITH t AS (
    INSERT INTO tickets (customer_id, status, priority, category, channel, subject, description,
                         created_at, updated_at, response_due, resolution_due)
    SELECT 0, 'open', 'P0', 'payment', 'admin_chat', 'bench ' || g, 'bench', now(), now(),
           now(), now()
    FROM generate_series(1, $1) g
    RETURNING id
)
INSERT INTO incidents (ticket_id, priority, source, level, opened_at, level_entered_at,
                       next_deadline, acknowledged_by, acknowledged_at)
SELECT id, 'P0', 'alert', 1, now() - interval '1 hour', entered, entered + interval '60 min',
       2001, now()
FROM (SELECT id, now() - interval '60 min' + (random() * interval '3 days') + interval '1 hour'
             AS entered FROM t) x
"""


async def main(tickets: int, due_share: float) -> None:
    root = Path(tempfile.mkdtemp(prefix="qc-bench-"))
    server = start_postgres(root / "pgdata", delete_on_stop=True)
    try:
        admin = await asyncpg.connect(server.url)
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        url = server.url_for("bench")
        conn = await connect(url)
        await migrate(conn)
        await conn.close()
        pool = await create_pool(url, min_size=2, max_size=5)
        for uid, role in [(2001, Role.SUPPORT_ENGINEER), (2002, Role.SENIOR_ENGINEER)]:
            await pool.execute("INSERT INTO users (id, first_name) VALUES ($1, 'x')", uid)
            await roster.add_member(
                pool, user_id=uid, display_name=f"s{uid}", roles=[role], added_by=None
            )
        ctx = EscalationContext(
            EscalationRules(), ZoneInfo("Asia/Jakarta"), "Asia/Jakarta", -1001, -1002
        )
        due = int(tickets * due_share)
        started = time.perf_counter()
        await pool.execute(FILL, tickets)
        # 1 %: due in the last ten minutes
        await pool.execute(
            """
            UPDATE incidents SET level_entered_at = now() - interval '61 min'
                                                 - random() * interval '9 min'
            WHERE ticket_id IN (SELECT ticket_id FROM incidents ORDER BY random() LIMIT $1)
            """,
            due,
        )
        await pool.execute(
            "UPDATE incidents SET next_deadline = level_entered_at + interval '60 min'"
        )
        await pool.execute("ANALYZE incidents")
        print(f"filled {tickets} incidents ({due} due) in {time.perf_counter() - started:.1f} s")

        plan = await pool.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT ticket_id FROM incidents "
            "WHERE next_deadline <= now() ORDER BY next_deadline LIMIT 200 FOR UPDATE SKIP LOCKED"
        )
        print("\nEXPLAIN of the due-item query:")
        for row in plan:
            print("   ", row[0])

        clock = SystemClock()
        started = time.perf_counter()
        report = await scan_once(pool, clock, ctx)
        took = time.perf_counter() - started
        print(
            f"\none scan: {len(report.escalated)} escalated in {took * 1000:.0f} ms "
            f"({took / max(1, len(report.escalated)) * 1000:.2f} ms each, with outbox rows)"
        )
        started = time.perf_counter()
        empty = await scan_once(pool, clock, ctx)
        print(
            f"an idle scan (nothing due): {(time.perf_counter() - started) * 1000:.2f} ms, "
            f"{len(empty.escalated)} escalated"
        )

        # Lateness: the real worker, deadlines spread over the next 20 seconds.
        await pool.execute(
            """
            UPDATE incidents SET level_entered_at = now() - interval '60 min'
                                                 + random() * interval '20 s',
                                 level = 1
            WHERE ticket_id IN (SELECT ticket_id FROM incidents WHERE level = 1
                                ORDER BY random() LIMIT $1)
            """,
            due,
        )
        await pool.execute(
            "UPDATE incidents SET next_deadline = level_entered_at + interval '60 min' "
            "WHERE level = 1"
        )
        mark = await pool.fetchval("SELECT coalesce(max(id), 0) FROM ticket_events")
        worker = EscalationWorker(pool, clock, ctx)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(23)
        worker.stop()
        await task
        await report_lateness(pool, mark)
        await pool.close()
    finally:
        server.stop()


async def report_lateness(pool: asyncpg.Pool, mark: int) -> None:
    # The scan records each automatic escalation's deadline and lateness in its timeline event.
    rows = await pool.fetch(
        "SELECT (details->>'late_seconds')::float AS late FROM ticket_events "
        "WHERE id > $1 AND kind = 'incident_escalated'",
        mark,
    )
    values = sorted(r["late"] for r in rows if r["late"] is not None)
    if not values:
        print("no escalation fired during the lateness run")
        return
    p = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    print(f"\nlateness of {len(values)} escalations after their deadline (worker, SystemClock):")
    print(
        f"    p50 {p[49] * 1000:.0f} ms   p95 {p[94] * 1000:.0f} ms"
        f"   max {values[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    args = parser.parse_args()
    asyncio.run(main(args.tickets, args.due_share))
