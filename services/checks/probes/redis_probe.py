"""QuickCart's Redis (MONITOR_REDIS_URL): memory against maxmemory, evictions, sessions."""

from __future__ import annotations

from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from services.checks.model import Outcome, Sentence, Status, Unit
from services.checks.probe import NotConfigured, ProbeContext, ProbeFailed
from services.checks.probes._common import Findings, judge
from services.checks.units import fmt_bytes, fmt_percent
from services.i18n import N_

_BATCH = 500


async def _session_keys(client: Redis, pattern: str, limit: int) -> tuple[int, int, bool]:
    """(keys matching, keys without TTL, stopped at the limit)."""
    total = without_ttl = 0
    batch: list[Any] = []

    async def flush() -> int:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.ttl(key)
        ttls = await pipe.execute()
        batch.clear()
        return sum(1 for ttl in ttls if ttl == -1)

    async for key in client.scan_iter(match=pattern, count=1000):
        total += 1
        batch.append(key)
        if len(batch) >= _BATCH:
            without_ttl += await flush()
        if total >= limit:
            break
    if batch:
        without_ttl += await flush()
    return total, without_ttl, total >= limit


async def probe(ctx: ProbeContext) -> Outcome:
    url = ctx.targets.monitor_redis_url
    if not url:
        raise NotConfigured("MONITOR_REDIS_URL")
    rules = ctx.rules.redis
    timeout = ctx.rules.timeout_for("redis")
    client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        info = await client.info()
        sessions = await _session_keys(client, rules.session_pattern, rules.session_scan_limit)
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise ProbeFailed(
            Sentence(N_("Redis cannot be reached: {reason}"), {"reason": type(exc).__name__}),
            Status.CRIT,
        ) from None
    finally:
        await client.aclose()
    return _judge(ctx, info, sessions)


def _judge(ctx: ProbeContext, info: dict[str, Any], sessions: tuple[int, int, bool]) -> Outcome:
    rules = ctx.rules.redis
    found = Findings()
    used = found.value("used_memory_bytes", info.get("used_memory", 0), Unit.BYTES)
    maximum = float(info.get("maxmemory", 0) or 0)
    percent = None
    if maximum > 0:
        found.value("maxmemory_bytes", maximum, Unit.BYTES)
        percent = found.value("memory_percent", used * 100.0 / maximum, Unit.PERCENT)
        found.add(
            judge(percent, rules.memory_percent),
            N_("Redis uses {used} of its {max} maxmemory ({percent})."),
            used=fmt_bytes(used),
            max=fmt_bytes(maximum),
            percent=fmt_percent(percent),
        )
    else:
        found.note(N_("Redis has no maxmemory limit; it uses {used}."), used=fmt_bytes(used))
    fragmentation = float(info.get("mem_fragmentation_ratio", 0) or 0)
    found.value("fragmentation_ratio", fragmentation, Unit.RATIO)
    if fragmentation > rules.fragmentation_warn and used > 64 * 1024 * 1024:
        found.add(
            Status.WARN,
            N_("Memory fragmentation ratio is {ratio}."),
            ratio=f"{fragmentation:.2f}",
        )
    evicted = found.value("evicted_keys", info.get("evicted_keys", 0), Unit.COUNT)
    found.value("expired_keys", info.get("expired_keys", 0), Unit.COUNT)
    if evicted > 0:
        found.note(N_("{count} keys were evicted since Redis started."), count=int(evicted))
    found.value("connected_clients", info.get("connected_clients", 0), Unit.COUNT)
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    if hits + misses > 0:
        ratio = found.value("hit_ratio_percent", hits * 100.0 / (hits + misses), Unit.PERCENT)
        if hits + misses >= rules.hit_ratio_min_lookups and ratio < rules.hit_ratio_warn_percent:
            found.add(Status.WARN, N_("Cache hit ratio is {ratio}."), ratio=fmt_percent(ratio))
    total, without_ttl, capped = sessions
    found.value("session_keys", total, Unit.COUNT)
    found.value("session_keys_without_ttl", without_ttl, Unit.COUNT)
    if without_ttl >= rules.sessions_without_ttl_warn:
        found.add(
            Status.WARN,
            N_("{count} of {total} session keys ({pattern}) never expire."),
            count=without_ttl,
            total=total,
            pattern=rules.session_pattern,
        )
    if capped:
        found.note(N_("Stopped counting session keys at {limit}."), limit=total)
    return found.outcome(
        N_("Redis uses {used}{share}; {sessions} session keys."),
        used=fmt_bytes(used),
        share=f" ({fmt_percent(percent)})" if percent is not None else "",
        sessions=total,
    )
