"""Abuse limits on Redis: a sliding window per customer, shared by every bot replica.

The window is a sorted set of event times (from the injected clock, so tests move time);
one Lua script trims, counts and records atomically, and tells when the oldest event leaves
the window, which is when the customer may write again. An event named by the caller (a
Telegram message) counts once however often it is checked: the storm path checks a message
before it knows whether the desk takes it, and the desk's own check must not count it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from services.clock import Clock
from services.tickets.config import SupportRules

# The window: its key, now, its length and its limit; what left it is dropped.
_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
"""
_SCRIPT = (
    _WINDOW
    + """if ARGV[5] == '1' and redis.call('ZSCORE', key, ARGV[4]) then
  return {1, '0'}
end
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tostring(tonumber(oldest[2]) + window)}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, '0'}
"""
)

# Several named events at once, in order: how many leading ones are allowed (counted, unless
# counted before); the first refused one stops it, as it would stop them one by one.
_MANY = (
    _WINDOW
    + """local count = redis.call('ZCARD', key)
local allowed = 0
for i = 4, #ARGV do
  if not redis.call('ZSCORE', key, ARGV[i]) then
    if count >= limit then break end
    redis.call('ZADD', key, now, ARGV[i])
    count = count + 1
  end
  allowed = allowed + 1
end
if allowed > 0 then redis.call('PEXPIRE', key, window) end
return allowed
"""
)

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_at: datetime | None = None


async def hit(
    redis: Redis, key: str, *, limit: int, window: timedelta, clock: Clock, event: str | None = None
) -> Verdict:
    """Count one event against `limit` per `window`; refused events are not counted. `event`:
    its name; an event already counted in the window is allowed and not counted again."""
    now_ms = int(clock.now().timestamp() * 1000)
    window_ms = int(window.total_seconds() * 1000)
    member = f"event:{event}" if event is not None else f"{now_ms}:{uuid.uuid4().hex[:8]}"
    allowed, retry = await redis.eval(
        _SCRIPT, 1, key, now_ms, window_ms, limit, member, "1" if event is not None else "0"
    )
    if int(allowed):
        return Verdict(True)
    retry_ms = int(float(retry))
    return Verdict(False, datetime.fromtimestamp(retry_ms / 1000, tz=UTC))


async def new_ticket(redis: Redis, customer_id: int, rules: SupportRules, clock: Clock) -> Verdict:
    return await _customer(
        redis, rules, clock, f"tickets:{customer_id}", rules.new_tickets_per_hour, HOUR
    )


async def message(
    redis: Redis, customer_id: int, rules: SupportRules, clock: Clock, *, event: str | None = None
) -> Verdict:
    """`event`: the message's name ("chat:message id"), so that checking it twice counts once."""
    return await _customer(
        redis, rules, clock, f"messages:{customer_id}", rules.messages_per_minute, MINUTE, event
    )


async def _customer(
    redis: Redis,
    rules: SupportRules,
    clock: Clock,
    what: str,
    limit: int,
    window: timedelta,
    event: str | None = None,
) -> Verdict:
    """A customer's limit from the support rules (always allowed while limits are off)."""
    if not rules.limits_enabled:
        return Verdict(True)
    return await hit(
        redis, f"qc:limit:{what}", limit=limit, window=window, clock=clock, event=event
    )


async def messages(
    redis: Redis, customer_id: int, rules: SupportRules, clock: Clock, *, events: Sequence[str]
) -> int:
    """How many of the named messages, in order, are within the limit, in one round trip:
    `message` for each in turn, stopped at the first refused (always all while limits are
    off). A message counted before is allowed and not counted again."""
    if not rules.limits_enabled or not events:
        return len(events)
    now_ms = int(clock.now().timestamp() * 1000)
    allowed = await redis.eval(
        _MANY, 1, f"qc:limit:messages:{customer_id}", now_ms, int(MINUTE.total_seconds() * 1000),
        rules.messages_per_minute, *(f"event:{event}" for event in events),
    )  # fmt: skip
    return int(allowed)
