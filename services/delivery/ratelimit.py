"""Send limits in Redis, shared by every replica: a token bucket per private chat and for the
bot as a whole, a rolling window per group (at most N sends in any `group_window_seconds`,
edits included: a token bucket with a burst lets out more than N in some minute).

One Lua script takes from the chat's limit and the global bucket atomically, or takes nothing
and says how long to wait. A 429 pauses one chat (not the worker) for
`retry_after`; the pause lives in Redis too, so the other replicas honour it.
Time comes from the injected clock (passed to the script), so tests move it by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from redis.asyncio import Redis

from services.clock import Clock
from services.delivery.config import Limits

_TAKE = """
local now = tonumber(ARGV[1])
local mode = tonumber(ARGV[2])  -- 0: global only, 1: private bucket, 2: group window
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return math.ceil(pause - now) end

local function load(key, rate, burst)
  local v = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(v[1])
  local stamp = tonumber(v[2])
  if tokens == nil then tokens = burst; stamp = now end
  if now > stamp then
    tokens = math.min(burst, tokens + (now - stamp) * rate)
    stamp = now
  end
  return tokens, stamp
end

local wait = 0
local ct, cs
if mode == 1 then
  ct, cs = load(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]))
  if ct < 1 then wait = (1 - ct) / tonumber(ARGV[3]) end
elseif mode == 2 then
  local span = tonumber(ARGV[3])
  local most = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
  local held = redis.call('ZCARD', KEYS[1])
  if held >= most then
    local oldest = redis.call('ZRANGE', KEYS[1], held - most, held - most, 'WITHSCORES')
    wait = tonumber(oldest[2]) + span - now
  end
  -- Rows of several conversations wait for one group's budget: the most urgent, then the
  -- oldest, goes first. KEYS[5] ranks the waiters, KEYS[6] says when each last asked (one
  -- that stopped asking for WAITER_TTL is forgotten: its worker died or moved on).
  if ARGV[8] ~= '' then
    local me = ARGV[8]
    local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[9]))
    for _, gone in ipairs(stale) do
      redis.call('ZREM', KEYS[5], gone)
      redis.call('ZREM', KEYS[6], gone)
    end
    local best = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
    if best[1] ~= nil and best[1] ~= me and tonumber(best[2]) < tonumber(ARGV[7]) then
      wait = math.max(wait, 200)  -- the better one takes the slot; ask again a little later
    end
    if wait > 0 then
      redis.call('ZADD', KEYS[5], tonumber(ARGV[7]), me)
      redis.call('ZADD', KEYS[6], now, me)
      redis.call('PEXPIRE', KEYS[5], span + 60000)
      redis.call('PEXPIRE', KEYS[6], span + 60000)
    else
      redis.call('ZREM', KEYS[5], me)
      redis.call('ZREM', KEYS[6], me)
    end
  end
end
local gt, gs = load(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]))
if gt < 1 then wait = math.max(wait, (1 - gt) / tonumber(ARGV[5])) end
if wait > 0 then return math.max(1, math.ceil(wait)) end

if mode == 1 then
  redis.call('HSET', KEYS[1], 't', tostring(ct - 1), 'ts', tostring(cs))
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4]) / tonumber(ARGV[3])) + 60000)
elseif mode == 2 then
  local seq = redis.call('INCR', KEYS[4])
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[3]) + 60000)
  redis.call('ZADD', KEYS[1], now, tostring(now) .. ':' .. tostring(seq))
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 60000)
end
redis.call('HSET', KEYS[2], 't', tostring(gt - 1), 'ts', tostring(gs))
redis.call('PEXPIRE', KEYS[2], math.ceil(tonumber(ARGV[6]) / tonumber(ARGV[5])) + 60000)
return 0
"""

_PAUSE = """
local until_ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], tostring(until_ms), 'PX', math.max(1, tonumber(ARGV[2])))
end
return 0
"""

Sleep = Callable[[float], Awaitable[None]]

RANK_SPAN = 2**40  # rank = priority * RANK_SPAN + row id: exact in a Redis score (a double)
WAITER_TTL = 5.0  # seconds: a ranked waiter that has not asked for this long is forgotten


def is_group(chat_id: int) -> bool:
    return chat_id < 0


@dataclass(eq=False)
class RateLimiter:
    redis: Redis
    limits: Limits
    clock: Clock
    _: KW_ONLY
    prefix: str = "qc:delivery"
    sleep: Sleep = asyncio.sleep

    def __post_init__(self) -> None:
        self._take: Any = self.redis.register_script(_TAKE)
        self._pause: Any = self.redis.register_script(_PAUSE)

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _keys(self, chat_id: int) -> list[str]:
        limit = "window" if is_group(chat_id) else "bucket"
        return [
            f"{self.prefix}:{limit}:{chat_id}",
            f"{self.prefix}:bucket:global",
            f"{self.prefix}:pause:{chat_id}",
            f"{self.prefix}:window-seq:{chat_id}",
            f"{self.prefix}:waiters:{chat_id}",
            f"{self.prefix}:waiters-seen:{chat_id}",
        ]

    async def try_acquire(
        self, chat_id: int, *, chat_token: bool = True, rank: tuple[int, int] | None = None
    ) -> float:
        """Take a send; 0.0 when taken, else the seconds to wait (nothing taken).

        `chat_token=False` (edits, topic changes) takes nothing from a private chat's bucket,
        only from the global one; in a group it counts like a send. A 429 pause on the chat
        holds both. `rank` (priority, outbox row id): in a group, while ranked callers wait,
        the lowest rank takes the next send; a caller that stops waiting says so (`leave`).
        """
        member, score = "", 0
        if rank is not None and is_group(chat_id):
            member, score = str(rank[1]), rank[0] * RANK_SPAN + rank[1]
        limits = self.limits
        if is_group(chat_id):
            mode, first = 2, repr(limits.group_window_seconds * 1000)
            second = max(1, int(limits.group_per_minute))
        else:
            mode = 1 if chat_token else 0
            first, second = repr(limits.private_per_second / 1000), limits.private_burst
        wait_ms = await self._take(
            keys=self._keys(chat_id),
            args=[
                self._now_ms(),
                mode,
                first,
                second,
                repr(limits.global_per_second / 1000),
                limits.global_burst,
                score,
                member,
                int(WAITER_TTL * 1000),
            ],
        )
        return int(wait_ms) / 1000

    async def leave(self, chat_id: int, row_id: int) -> None:
        """A ranked caller stops waiting for the group (it gave way, or its worker stops)."""
        if is_group(chat_id):
            keys = self._keys(chat_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(keys[4], str(row_id))
                pipe.zrem(keys[5], str(row_id))
                await pipe.execute()

    async def acquire(
        self, chat_id: int, *, chat_token: bool = True, stop: asyncio.Event | None = None
    ) -> bool:
        """Wait until a token is taken; False when `stop` was set first."""
        while True:
            wait = await self.try_acquire(chat_id, chat_token=chat_token)
            if wait <= 0:
                return True
            if stop is not None and stop.is_set():
                return False
            await self.sleep(min(wait, 1.0) if stop is not None else wait)

    async def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429 for this chat: nobody sends to it for `seconds`."""
        until = self._now_ms() + int(seconds * 1000)
        await self._pause(
            keys=[f"{self.prefix}:pause:{chat_id}"], args=[until, int(seconds * 1000) + 1000]
        )

    async def paused_for(self, chat_id: int) -> float:
        raw = await self.redis.get(f"{self.prefix}:pause:{chat_id}")
        if raw is None:
            return 0.0
        return max(0.0, (int(raw) - self._now_ms()) / 1000)
