"""Cache cleanup on QuickCart's Redis: session keys that should have expired.

Walks the key space with SCAN (never KEYS: one KEYS on a big instance blocks every client),
looks at each matching key's TTL and idle time in pipelined batches, and removes with UNLINK
what the policy allows: keys without a TTL that nobody touched for `max_idle_s`. Keys without
a TTL but recently used get `assign_ttl_s` instead (a session that never expires is a bug in
QuickCart, not something to delete under a live user). Memory is read before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from services.results import as_json


class CachePolicy(BaseModel):
    """RULES_FILE `maintenance.cache`."""

    pattern: str = "session:*"
    max_idle_s: int = 7 * 24 * 3600  # a TTL-less session untouched for a week is dead
    assign_ttl_s: int | None = 24 * 3600  # TTL given to TTL-less sessions still in use
    batch: int = 500
    max_scanned: int = 1_000_000
    max_deleted: int = 100_000


@dataclass
class CacheCleanupResult:
    pattern: str
    scanned: int = 0
    without_ttl: int = 0
    deleted: int = 0
    ttl_assigned: int = 0
    vanished: int = 0  # expired between SCAN and TTL (Redis removed it on our touch)
    memory_before: int = 0
    memory_after: int = 0
    truncated: bool = False
    dry_run: bool = False
    sample_deleted: list[str] = field(default_factory=list)

    @property
    def freed_bytes(self) -> int:
        return max(0, self.memory_before - self.memory_after)

    def to_json(self) -> dict[str, Any]:
        return as_json(self, freed_bytes=self.freed_bytes)


async def used_memory(redis: Any) -> int:
    info = await redis.info("memory")
    return int(info.get("used_memory", 0))


_EXPIRE_IF_PERSISTENT = """
if redis.call('TTL', KEYS[1]) == -1 then return redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 0
"""


def _key(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


async def cleanup_sessions(
    redis: Any, policy: CachePolicy, *, dry_run: bool = False
) -> CacheCleanupResult:
    """One pass over the keys matching `policy.pattern`; see the module docstring."""
    result = CacheCleanupResult(pattern=policy.pattern, dry_run=dry_run)
    result.memory_before = await used_memory(redis)
    cursor: int | bytes = 0
    while True:
        cursor, keys = await redis.scan(cursor=cursor, match=policy.pattern, count=policy.batch)
        if keys:
            await _handle_batch(redis, list(keys), policy, result, dry_run)
        if int(cursor) == 0:
            break
        if result.scanned >= policy.max_scanned or result.deleted >= policy.max_deleted:
            result.truncated = True
            break
    result.memory_after = await used_memory(redis)
    return result


async def _handle_batch(
    redis: Any, keys: list[Any], policy: CachePolicy, result: CacheCleanupResult, dry_run: bool
) -> None:
    result.scanned += len(keys)
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.ttl(key)
        pipe.object("idletime", key)
    answers = await pipe.execute(raise_on_error=False)
    stale: list[Any] = []
    in_use: list[Any] = []
    for index, key in enumerate(keys):
        ttl, idle = answers[2 * index], answers[2 * index + 1]
        if isinstance(ttl, Exception) or ttl == -2:
            result.vanished += 1
            continue
        if ttl != -1:
            continue
        result.without_ttl += 1
        idle_s = idle if isinstance(idle, int) else 0
        if idle_s >= policy.max_idle_s:
            stale.append(key)
        else:
            in_use.append(key)
    room = max(0, policy.max_deleted - result.deleted)
    if len(stale) > room:
        result.truncated = True  # the rest waits for the next run
    stale = stale[:room]
    if stale:
        if not dry_run:
            await redis.unlink(*stale)
        result.deleted += len(stale)
        for key in stale[: max(0, 10 - len(result.sample_deleted))]:
            result.sample_deleted.append(_key(key))
    if in_use and policy.assign_ttl_s:
        if not dry_run:
            pipe = redis.pipeline(transaction=False)
            for key in in_use:
                # only when it still has no expiry (the app may have set one meanwhile);
                # a script rather than EXPIRE NX, which Redis < 7 does not know
                pipe.eval(_EXPIRE_IF_PERSISTENT, 1, key, policy.assign_ttl_s)
            await pipe.execute(raise_on_error=False)
        result.ttl_assigned += len(in_use)
