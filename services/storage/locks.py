"""Rows stamped with the advisory lock their owning process holds for its life: a row whose
lock is no longer held belongs to a process that died (SIGKILL, lost host, PostgreSQL restart)."""

from __future__ import annotations


def lock_is_held(column: str) -> str:
    """SQL that is true while the advisory lock whose key is in `column` is held by someone."""
    return f"""EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = {column})"""
