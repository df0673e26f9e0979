"""users.touch runs for every update: an unchanged person is read, not written (a write, even a
row lock, is flushed to disk at commit: once per message of a storm)."""

from __future__ import annotations

import asyncpg

from services import users


async def xid_after_touch(pool: asyncpg.Pool, **names: str | None) -> int | None:
    async with pool.acquire() as conn, conn.transaction():
        await users.touch(conn, 4242, first_name=str(names.pop("first_name")), **names)
        value: int | None = await conn.fetchval("SELECT txid_current_if_assigned()")
        return value


async def test_an_unchanged_person_is_read_not_written(pool: asyncpg.Pool) -> None:
    assert await xid_after_touch(pool, first_name="Budi", username="budi") is not None  # new
    assert await xid_after_touch(pool, first_name="Budi", username="budi") is None
    assert await xid_after_touch(pool, first_name="Budi", username="budi_s") is not None
    person = await users.touch(pool, 4242, first_name="Budi", username="budi_s")
    assert (person.id, person.first_name, person.username) == (4242, "Budi", "budi_s")
    assert await pool.fetchval("SELECT username FROM users WHERE id = 4242") == "budi_s"
