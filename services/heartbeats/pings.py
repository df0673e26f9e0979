"""A ping arriving at `/ping/<uuid>[/start|/fail|/<exit status>]`, and the scan that finds
checks that missed their time. Both move the check and its alert in one transaction.

Rate limit (Healthchecks: "more than 5 times per minute, some of the requests may get rate
limited and not recorded"): past `log_per_minute` pings of one check within a minute, a ping is
not written to the log (the check counts it in `n_rate_limited`), and:

- a ping that changes something (a start, a failure, a success of a check that is not up) is
  still applied to the check at once, alert included;
- a success of a check that is up, the bulk of any flood, is coalesced in Redis (only the
  newest one is kept, with a count) and written to PostgreSQL by the next scan, before the scan
  judges lateness. So a flood costs PostgreSQL one write a scan, and the latest state is never
  lost. Without Redis, such a ping is applied at once like the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.alerts.config import AlertsRules
from services.heartbeats import alerting, metrics, store
from services.heartbeats.config import HeartbeatsRules
from services.heartbeats.model import (
    Heartbeat,
    PingKind,
    apply_ping,
    going_down_after,
    mark_down,
    went_down,
)
from services.storage.db import transaction
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


PENDING = "qc:hb:pending"  # the set of check ids with a coalesced success waiting
# Keep the newest success (by its time) and count every one: KEYS[1] the check's hash,
# KEYS[2] the set; ARGV: at (epoch µs), body, exit status ("" for none), check id.
_COALESCE = """
local at = tonumber(ARGV[1])
local known = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at >= known then
  redis.call('HSET', KEYS[1], 'at', ARGV[1], 'body', ARGV[2], 'exit', ARGV[3])
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""
_TAKE = """
local found = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return found
"""


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def coalescible(hb: Heartbeat, kind: PingKind) -> bool:
    """A success of a check that is up and not running moves nothing but its last ping."""
    return kind == "success" and hb.status == "up" and hb.last_start is None


async def coalesce(redis: Redis, hb: Heartbeat, ping: Ping, now: datetime) -> bool:
    try:
        await redis.eval(
            _COALESCE,
            2,
            f"{PENDING}:{hb.id}",
            PENDING,
            str(_micros(now)),
            body_text(ping.body),
            "" if ping.exit_status is None else str(ping.exit_status),
            str(hb.id),
        )
    except (RedisError, OSError) as exc:
        logger.warning("heartbeat ping not coalesced: {}", type(exc).__name__)
        return False
    return True


async def receive(
    pool: asyncpg.Pool,
    redis: Redis | None,
    ping: Ping,
    now: datetime,
    rules: HeartbeatsRules,
    alerts_config: AlertsRules,
) -> PingOutcome | None:
    """Apply one ping; None when no check has this key (the endpoint answers 404)."""
    seen = await store.by_key(pool, ping.key)
    if seen is None:
        return None
    limited = await over_limit(redis, seen.id, now, rules.log_per_minute)
    coalesced = (
        limited
        and redis is not None
        and coalescible(seen, ping.kind)
        and await coalesce(redis, seen, ping, now)
    )
    if coalesced:
        metrics.PINGS.labels(kind=ping.kind, outcome="coalesced").inc()
        return PingOutcome(replace(seen, last_ping=now, last_body=body_text(ping.body)), True)
    async with transaction(pool) as conn:
        hb = await store.by_key(conn, ping.key, lock=True)
        if hb is None:  # removed in between
            return None
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


async def flush_coalesced(pool: asyncpg.Pool, redis: Redis | None) -> int:
    """Write each check's newest coalesced success to PostgreSQL (a newer ping already stored
    wins; the count is added either way). Returns how many checks were written."""
    if redis is None:
        return 0
    try:
        ids = sorted(int(i) for i in await redis.smembers(PENDING))
    except (RedisError, OSError) as exc:
        logger.warning("coalesced heartbeat pings not read: {}", type(exc).__name__)
        return 0
    written = 0
    for hb_id in ids:
        try:
            raw = await redis.eval(_TAKE, 2, f"{PENDING}:{hb_id}", PENDING, str(hb_id))
        except (RedisError, OSError) as exc:
            logger.warning("coalesced heartbeat pings not read: {}", type(exc).__name__)
            return written
        fields = {_text(raw[i]): _text(raw[i + 1]) for i in range(0, len(raw) - 1, 2)}
        if "at" not in fields:
            continue
        at = datetime.fromtimestamp(int(fields["at"]) / 1_000_000, tz=UTC)
        count = int(fields.get("count", "1"))
        exit_status = int(fields["exit"]) if fields.get("exit") else None
        async with transaction(pool) as conn:
            hb = await store.by_id(conn, hb_id, lock=True)
            if hb is None:
                continue
            if coalescible(hb, "success") and (hb.last_ping is None or hb.last_ping < at):
                latest = replace(
                    hb,
                    last_ping=at,
                    last_body=fields.get("body", ""),
                    last_exit_status=exit_status,
                    last_kind="success",
                    last_duration=None,
                )
                hb = replace(latest, alert_after=going_down_after(latest))
            hb = replace(hb, n_pings=hb.n_pings + count)
            await store.save_state(conn, hb, at, rate_limited=False, limited_count=count)
        written += 1
    return written


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


async def scan(
    pool: asyncpg.Pool, now: datetime, alerts_config: AlertsRules, redis: Redis | None = None
) -> list[str]:
    """Checks that missed their time (or whose run overran its grace) go down: an alert each.
    Coalesced pings are written first, so a flooded check is judged by its newest ping.
    Returns their names."""
    await flush_coalesced(pool, redis)
    down: list[str] = []
    async with transaction(pool) as conn:
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
