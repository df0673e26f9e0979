"""What counts as a store outage (retry later) and what is a bug (give up)."""

from __future__ import annotations

import errno

import asyncpg
import redis.exceptions

from services.storage.outage import is_outage


def test_servers_not_answering_are_outages() -> None:
    assert is_outage(redis.exceptions.ConnectionError("Error 111 connecting"))
    assert is_outage(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert is_outage(FileNotFoundError(errno.ENOENT, "No such file", "/tmp/.s.PGSQL.5432"))
    assert is_outage(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_outage(asyncpg.InterfaceError("connection is closed"))
    assert is_outage(TimeoutError())


def test_an_outage_behind_another_error_still_counts() -> None:
    try:
        try:
            raise redis.exceptions.ConnectionError("gone")
        except redis.exceptions.ConnectionError as exc:
            raise RuntimeError("could not read the state") from exc
    except RuntimeError as wrapped:
        assert is_outage(wrapped)


def test_bugs_are_not_outages() -> None:
    assert not is_outage(ValueError("bad"))
    assert not is_outage(KeyError("x"))
    assert not is_outage(PermissionError(errno.EACCES, "denied"))
    assert not is_outage(asyncpg.UniqueViolationError("duplicate key"))
