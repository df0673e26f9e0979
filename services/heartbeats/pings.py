"""A ping arriving at `/ping/<uuid>[/start|/fail|/<exit status>]`, and the scan that finds
checks that missed their time. Both move the check and its alert in one transaction.

Rate limit (Healthchecks: "more than 5 times per minute, some of the requests may get rate
limited and not recorded"): past `log_per_minute` pings of one check within a minute, a ping is
not written to the log, but it still moves the check's state (last ping, status, duration, the
newest body), so the latest state is never lost; the check counts it in `n_rate_limited`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.alerts.config import AlertsRules
from services.heartbeats import alerting, metrics, store
from services.heartbeats.config import HeartbeatsRules
from services.heartbeats.model import Heartbeat, PingKind, apply_ping, mark_down, went_down
from services.text import storable


@dataclass(frozen=True)
class Ping:
    key: uuid.UUID
    kind: PingKind
    exit_status: int | None
    method: str
    remote_addr: str | None
    user_agent: str
    body: bytes  # already cut to the body limit
    body_size: int  # bytes received


@dataclass(frozen=True)
class PingOutcome:
    heartbeat: Heartbeat
    rate_limited: bool


def body_text(body: bytes) -> str:
    """The log keeps text: bytes that are not UTF-8 are replaced, NUL removed."""
    return storable(body.decode("utf-8", errors="replace"))


async def over_limit(redis: Redis | None, hb_id: int, now: datetime, per_minute: int) -> bool:
    """A fixed one-minute window per check in Redis (by the injected clock). Redis not
    answering never refuses a ping: the ping is then logged."""
    if redis is None:
        return False
    key = f"qc:hb:rate:{hb_id}:{int(now.timestamp()) // 60}"
    try:
        pipe = redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("heartbeat rate limit unavailable: {}", type(exc).__name__)
        return False
    return int(count) > per_minute


async def receive(
    pool: asyncpg.Pool,
    redis: Redis | None,
    ping: Ping,
    now: datetime,
    rules: HeartbeatsRules,
    alerts_config: AlertsRules,
) -> PingOutcome | None:
    """Apply one ping; None when no check has this key (the endpoint answers 404)."""
    async with pool.acquire() as conn, conn.transaction():
        hb = await store.by_key(conn, ping.key, lock=True)
        if hb is None:
            return None
        limited = await over_limit(redis, hb.id, now, rules.log_per_minute)
        result = apply_ping(hb, ping.kind, now, ping.exit_status)
        text = body_text(ping.body)
        after = replace(result.heartbeat, last_body=text)
        await store.save_state(conn, after, now, rate_limited=limited)
        if not limited:
            await store.log_ping(
                conn,
                store.PingWrite(
                    heartbeat_id=hb.id,
                    received_at=now,
                    kind=ping.kind,
                    exit_status=ping.exit_status,
                    method=ping.method,
                    remote_addr=ping.remote_addr,
                    user_agent=storable(ping.user_agent[:200]),
                    body=text,
                    body_size=ping.body_size,
                    duration=result.duration,
                ),
                rules.log_keep,
            )
        if result.flip == "down":
            await alerting.went_down(conn, after, now, alerts_config)
        elif result.flip == "up":
            await alerting.went_up(conn, after, now, alerts_config)
    metrics.PINGS.labels(kind=ping.kind, outcome="rate_limited" if limited else "logged").inc()
    return PingOutcome(after, limited)


async def scan(pool: asyncpg.Pool, now: datetime, alerts_config: AlertsRules) -> list[str]:
    """Checks that missed their time (or whose run overran its grace) go down: an alert each.
    Returns their names."""
    down: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        for hb in await store.due(conn, now):
            if not went_down(hb, now):
                continue
            after = mark_down(hb)
            await store.save_state(conn, after, now, rate_limited=False)
            await alerting.went_down(conn, after, now, alerts_config)
            down.append(hb.name)
    for name in down:
        logger.info("heartbeat {} is down: no ping in time", name)
    return down
