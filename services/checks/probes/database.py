"""QuickCart's PostgreSQL (MONITOR_DATABASE_URL), watched read-only.

Connections against max_connections, long-running queries, lock waits and who blocks them,
idle transactions, tables due for VACUUM, size and growth, replica lag, slowest statements.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from services.checks import store
from services.checks.model import Outcome, Status, Unit
from services.checks.probe import ProbeContext
from services.checks.probes._common import Findings, judge
from services.checks.probes._pg import monitor_connection
from services.checks.units import fmt_bytes, fmt_duration, fmt_percent
from services.i18n import N_

_OVERVIEW = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
       current_setting('max_connections')::int AS max_connections,
       pg_database_size(current_database()) AS size,
       pg_is_in_recovery() AS replica
"""

_LONG_QUERIES = """
SELECT pid, coalesce(usename::text, '') AS usename,
       extract(epoch FROM clock_timestamp() - query_start)::float8 AS seconds,
       left(query, 200) AS query
FROM pg_stat_activity
WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND coalesce(wait_event_type, '') <> 'Lock'
  AND query_start < clock_timestamp() - make_interval(secs => $1)
ORDER BY query_start
LIMIT $2
"""

_LOCK_WAITS = """
SELECT w.pid, pg_blocking_pids(w.pid) AS blockers,
       extract(epoch FROM clock_timestamp() - w.query_start)::float8 AS seconds,
       left(w.query, 200) AS query
FROM pg_stat_activity w
WHERE cardinality(pg_blocking_pids(w.pid)) > 0
ORDER BY w.query_start
LIMIT $1
"""

_BLOCKERS = """
SELECT pid, coalesce(state, '') AS state, left(query, 200) AS query
FROM pg_stat_activity WHERE pid = ANY($1::int[])
ORDER BY pid
"""

_IDLE_IN_TRANSACTION = """
SELECT pid, coalesce(usename::text, '') AS usename,
       extract(epoch FROM clock_timestamp() - state_change)::float8 AS seconds,
       left(query, 200) AS query
FROM pg_stat_activity
WHERE state LIKE 'idle in transaction%'
  AND state_change < clock_timestamp() - make_interval(secs => $1)
ORDER BY state_change
LIMIT $2
"""

# Tables due for VACUUM, worst first: the probe lists them by `name`; database maintenance
# (services/maintenance/database.py) vacuums the same ones, by `target` (quoted identifiers).
VACUUM_DUE = """
SELECT schemaname || '.' || relname AS name, format('%I.%I', schemaname, relname) AS target,
       n_live_tup AS live, n_dead_tup AS dead
FROM pg_stat_user_tables
WHERE n_dead_tup >= $1
  AND n_dead_tup::float8 / greatest(n_live_tup + n_dead_tup, 1) >= $2
ORDER BY n_dead_tup DESC
LIMIT $3
"""

_REPLICA_LAG = """
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
       END::float8
"""

_HAS_STATEMENTS = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')"
_SLOWEST_STATEMENTS = """
SELECT left(query, 200) AS query, calls, mean_exec_time / 1000.0 AS mean_s
FROM pg_stat_statements
ORDER BY mean_exec_time DESC
LIMIT 5
"""


def _oneline(query: str) -> str:
    return " ".join(query.split())


async def probe(ctx: ProbeContext) -> Outcome:
    rules = ctx.rules.database
    timeout = ctx.rules.timeout_for("database")
    found = Findings()
    async with monitor_connection(
        ctx.targets.monitor_database_url, setting="MONITOR_DATABASE_URL", timeout=timeout
    ) as conn:
        overview = await conn.fetchrow(_OVERVIEW)
        assert overview is not None
        long_queries = await conn.fetch(_LONG_QUERIES, rules.long_query_s, rules.listed)
        waits = await conn.fetch(_LOCK_WAITS, rules.listed)
        blocker_pids = sorted({pid for w in waits for pid in w["blockers"]})
        blockers = await conn.fetch(_BLOCKERS, blocker_pids) if blocker_pids else []
        idle = await conn.fetch(_IDLE_IN_TRANSACTION, rules.idle_in_transaction_s, rules.listed)
        vacuum = await conn.fetch(
            VACUUM_DUE, rules.vacuum_min_dead_tuples, rules.vacuum_dead_ratio, rules.listed
        )
        lag = await conn.fetchval(_REPLICA_LAG) if overview["replica"] else None
        statements = await _slowest_statements(conn)

    used, maximum = int(overview["used"]), int(overview["max_connections"])
    percent = used * 100.0 / max(maximum, 1)
    found.value("connections_used", used, Unit.COUNT)
    found.value("connections_max", maximum, Unit.COUNT)
    found.value("connections_percent", percent, Unit.PERCENT)
    found.add(
        judge(percent, rules.connections_percent),
        N_("{used} of {max} connections are in use ({percent})."),
        used=used,
        max=maximum,
        percent=fmt_percent(percent),
    )
    _judge_long_queries(found, long_queries, rules.long_query_crit_s)
    _judge_lock_waits(found, waits, blockers, rules.lock_wait_crit_s)
    found.value("idle_in_transaction", len(idle), Unit.COUNT)
    for row in idle:
        found.add(
            Status.WARN,
            N_("PID {pid} ({user}) has been idle in a transaction for {duration}: {query}"),
            pid=row["pid"],
            user=row["usename"],
            duration=fmt_duration(row["seconds"]),
            query=_oneline(row["query"]),
        )
    found.value("tables_needing_vacuum", len(vacuum), Unit.COUNT)
    for row in vacuum:
        share = row["dead"] * 100.0 / max(row["live"] + row["dead"], 1)
        found.add(
            Status.WARN,
            N_("Table {table} needs VACUUM: {dead} dead rows ({share})."),
            table=row["name"],
            dead=row["dead"],
            share=fmt_percent(share),
        )
    size = found.value("size_bytes", overview["size"], Unit.BYTES)
    await _growth(ctx, found, size)
    if lag is not None:
        found.value("replication_lag_seconds", lag, Unit.SECONDS)
        found.add(
            judge(lag, rules.replication_lag_s),
            N_("This replica is {lag} behind its primary."),
            lag=fmt_duration(lag),
        )
    for row in statements:
        found.note(
            N_("Slow statement: {mean} on average over {calls} calls: {query}"),
            mean=fmt_duration(row["mean_s"]),
            calls=row["calls"],
            query=_oneline(row["query"]),
        )
    return found.outcome(
        N_("{used} of {max} connections in use; no slow queries, lock waits or idle transactions."),
        used=used,
        max=maximum,
    )


def _judge_long_queries(found: Findings, rows: list[Any], crit_s: float) -> None:
    found.value("long_queries", len(rows), Unit.COUNT)
    found.value("longest_query_seconds", max((r["seconds"] for r in rows), default=0), Unit.SECONDS)
    for row in rows:
        found.add(
            Status.CRIT if row["seconds"] > crit_s else Status.WARN,
            N_("PID {pid} ({user}) has been running a query for {duration}: {query}"),
            pid=row["pid"],
            user=row["usename"],
            duration=fmt_duration(row["seconds"]),
            query=_oneline(row["query"]),
        )


def _judge_lock_waits(
    found: Findings, waits: list[Any], blockers: list[Any], crit_s: float
) -> None:
    found.value("lock_waits", len(waits), Unit.COUNT)
    found.value(
        "longest_lock_wait_seconds", max((r["seconds"] for r in waits), default=0), Unit.SECONDS
    )
    for row in waits:
        found.add(
            Status.CRIT if row["seconds"] > crit_s else Status.WARN,
            N_("PID {pid} has waited {duration} for a lock held by PID {blockers}: {query}"),
            pid=row["pid"],
            blockers=", ".join(str(p) for p in row["blockers"]),
            duration=fmt_duration(row["seconds"]),
            query=_oneline(row["query"]),
        )
    for row in blockers:
        found.note(
            N_("PID {pid} ({state}) blocks others: {query}"),
            pid=row["pid"],
            state=row["state"],
            query=_oneline(row["query"]),
        )


async def _slowest_statements(conn: asyncpg.Connection) -> list[Any]:
    if not await conn.fetchval(_HAS_STATEMENTS):
        return []
    try:
        return list(await conn.fetch(_SLOWEST_STATEMENTS))
    except asyncpg.PostgresError:  # installed but not preloaded, or no permission
        return []


async def _growth(ctx: ProbeContext, found: Findings, size: float) -> None:
    """Growth per day against the stored sample from a day ago (or the oldest one we have)."""
    if ctx.db is None:
        return
    now = ctx.clock.now()
    base = await store.value_at_or_before(ctx.db, "database", "size_bytes", now - timedelta(1))
    if base is None:
        base = await store.earliest_since(ctx.db, "database", "size_bytes", now - timedelta(7))
    if base is None:
        return
    span_days = (now - base[0]).total_seconds() / 86_400
    if span_days < 1 / 24:
        return
    per_day = (size - base[1]) / span_days
    found.value("growth_bytes_per_day", per_day, Unit.BYTES)
    found.note(N_("The database grows by {amount} a day."), amount=fmt_bytes(per_day))
