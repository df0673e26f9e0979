"""Is this error a store being unreachable (retry later) rather than a bug (give up)?"""

from __future__ import annotations

import errno

import asyncpg
import redis.exceptions

_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, broken pipe
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


# Not every OSError is an outage (a file a handler wants may really be missing): these are
# what connecting to a server says when it is not there (ENOENT: its Unix socket is gone).
_NETWORK_ERRNOS = frozenset(
    {
        errno.ENOENT,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EADDRNOTAVAIL,
    }
)


def _one(exc: BaseException) -> bool:
    if isinstance(exc, _OUTAGES):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


def is_outage(exc: BaseException) -> bool:
    """True for PostgreSQL or Redis not answering, anywhere in the exception's chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _one(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
