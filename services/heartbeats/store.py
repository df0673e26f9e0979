"""SQL for heartbeats and their ping log (migration 0016_heartbeats)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.heartbeats.model import Heartbeat
from services.storage.records import record
from services.storage.types import Executor

_COLUMNS = """
    id, name, ping_key::text AS ping_key, kind, grace, tz, period, schedule, severity, status,
    down_reason, last_ping, last_start, last_duration, last_kind, last_exit_status, last_body,
    alert_after, n_pings, n_rate_limited, source, created_at
"""


def heartbeat_of(row: Mapping[str, Any]) -> Heartbeat:
    return record(Heartbeat, row)


async def by_name(db: Executor, name: str, *, lock: bool = False) -> Heartbeat | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM heartbeats WHERE name = $1{suffix}", name)
    return heartbeat_of(row) if row else None


async def by_id(db: Executor, hb_id: int, *, lock: bool = False) -> Heartbeat | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM heartbeats WHERE id = $1{suffix}", hb_id)
    return heartbeat_of(row) if row else None


async def by_key(db: Executor, key: uuid.UUID, *, lock: bool = False) -> Heartbeat | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM heartbeats WHERE ping_key = $1{suffix}", key)
    return heartbeat_of(row) if row else None


async def all_heartbeats(db: Executor) -> list[Heartbeat]:
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM heartbeats ORDER BY name")
    return [heartbeat_of(r) for r in rows]


async def due(db: Executor, now: datetime) -> list[Heartbeat]:
    """Checks whose time to go down has come (heartbeats_due_idx), locked, skipping any a ping
    or another replica holds right now (they are looked at again at the next scan)."""
    rows = await db.fetch(
        f"""SELECT {_COLUMNS} FROM heartbeats
            WHERE alert_after IS NOT NULL AND alert_after <= $1 AND status <> 'down'
            ORDER BY alert_after, id FOR UPDATE SKIP LOCKED""",
        now,
    )
    return [heartbeat_of(r) for r in rows]


@dataclass(frozen=True)
class NewHeartbeat:
    name: str
    kind: str
    grace: timedelta
    tz: str
    period: timedelta | None
    schedule: str | None
    severity: str
    source: str
    created_by: int | None
    ping_key: uuid.UUID | None = None

    def definition(self) -> tuple[Any, ...]:
        """kind, period, schedule, tz, grace, severity: the columns a definition sets, in the
        order the INSERT and the UPDATE below take them."""
        return self.kind, self.period, self.schedule, self.tz, self.grace, self.severity


async def insert(db: Executor, new: NewHeartbeat, now: datetime) -> Heartbeat | None:
    """None when the name is taken."""
    row = await db.fetchrow(
        f"""
        INSERT INTO heartbeats (name, ping_key, kind, period, schedule, tz, grace, severity,
                                source, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
        ON CONFLICT (name) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        new.name,
        new.ping_key or uuid.uuid4(),
        *new.definition(),
        new.source,
        new.created_by,
        now,
    )
    return heartbeat_of(row) if row else None


async def update_definition(db: Executor, hb_id: int, new: NewHeartbeat, now: datetime) -> None:
    """RULES_FILE changed a check it defines: its schedule, grace, severity (and key if given)."""
    await db.execute(
        """
        UPDATE heartbeats SET kind = $2, period = $3, schedule = $4, tz = $5, grace = $6,
               severity = $7, ping_key = coalesce($8, ping_key), source = 'rules', updated_at = $9
        WHERE id = $1
        """,
        hb_id,
        *new.definition(),
        new.ping_key,
        now,
    )


async def save_state(
    db: Executor, hb: Heartbeat, now: datetime, *, rate_limited: bool, limited_count: int = 0
) -> None:
    """The check's state after a ping, a scan, a pause or a resume (`limited_count`: pings
    coalesced while rate-limited, written now)."""
    await db.execute(
        """
        UPDATE heartbeats SET status = $2, down_reason = $3, last_ping = $4, last_start = $5,
               last_duration = $6, last_kind = $7, last_exit_status = $8, last_body = $9,
               alert_after = $10, n_pings = $11, n_rate_limited = n_rate_limited + $12::int,
               updated_at = $13
        WHERE id = $1
        """,
        hb.id,
        hb.status,
        hb.down_reason,
        hb.last_ping,
        hb.last_start,
        hb.last_duration,
        hb.last_kind,
        hb.last_exit_status,
        hb.last_body,
        hb.alert_after,
        hb.n_pings,
        (1 if rate_limited else 0) + limited_count,
        now,
    )


async def delete(db: Executor, hb_id: int) -> None:
    await db.execute("DELETE FROM heartbeats WHERE id = $1", hb_id)


@dataclass(frozen=True)
class PingWrite:
    heartbeat_id: int
    received_at: datetime
    kind: str
    exit_status: int | None
    method: str
    remote_addr: str | None
    user_agent: str
    body: str
    body_size: int
    duration: timedelta | None


async def log_ping(db: Executor, ping: PingWrite, keep: int) -> None:
    await db.execute(
        """
        INSERT INTO heartbeat_pings (heartbeat_id, received_at, kind, exit_status, method,
                                     remote_addr, user_agent, body, body_size, duration)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        ping.heartbeat_id,
        ping.received_at,
        ping.kind,
        ping.exit_status,
        ping.method,
        ping.remote_addr,
        ping.user_agent,
        ping.body,
        ping.body_size,
        ping.duration,
    )
    # keep the newest `keep` (heartbeat_pings_check_idx)
    await db.execute(
        """
        DELETE FROM heartbeat_pings WHERE heartbeat_id = $1 AND id <= (
            SELECT id FROM heartbeat_pings WHERE heartbeat_id = $1
            ORDER BY id DESC OFFSET $2 LIMIT 1)
        """,
        ping.heartbeat_id,
        keep,
    )


@dataclass(frozen=True)
class LoggedPing:
    received_at: datetime
    kind: str
    exit_status: int | None
    body: str
    body_size: int
    duration: timedelta | None


async def recent_pings(db: Executor, hb_id: int, limit: int = 5) -> list[LoggedPing]:
    rows = await db.fetch(
        """SELECT received_at, kind, exit_status, body, body_size, duration
           FROM heartbeat_pings WHERE heartbeat_id = $1 ORDER BY id DESC LIMIT $2""",
        hb_id,
        limit,
    )
    return [LoggedPing(**dict(r)) for r in rows]
