"""services/storage/statements.py against a real PostgreSQL: the statements it writes from a
store's keywords insert, update and find the rows the store means, and nothing else."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.storage.statements import Table


class Colour(enum.StrEnum):
    RED = "red"


THINGS = Table("things")
BY_NAME = Table("things", key="name", settable=frozenset({"colour", "tags"}))


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TEMP TABLE things (id bigserial PRIMARY KEY, name text UNIQUE, "
            "colour text, tags text[], n integer NOT NULL DEFAULT 0)"
        )
        yield conn


async def test_insert_id_update_and_exists(conn: asyncpg.Connection) -> None:
    first = await THINGS.insert_id(conn, name="a <&> ü", colour=Colour.RED, tags=("x", "y"))
    await THINGS.insert(conn, name="b", n=2)
    second = await conn.fetchval("SELECT id FROM things WHERE name = 'b'")

    await THINGS.update(conn, second, n=5, colour=None)
    await BY_NAME.update(conn, "a <&> ü", tags=("z",))

    rows = await conn.fetch("SELECT id, name, colour, tags, n FROM things ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (first, "a <&> ü", "red", ["z"], 0),
        (second, "b", None, None, 5),
    ]
    assert await THINGS.exists(conn, "name = $1 AND n > $2", "b", 4)
    assert not await THINGS.exists(conn, "name = $1 AND n > $2", "b", 5)


async def test_a_column_the_table_does_not_let_callers_set_is_refused(
    conn: asyncpg.Connection,
) -> None:
    await THINGS.insert(conn, name="a", n=1)

    with pytest.raises(ValueError, match=r"not a settable things column: \['n'\]"):
        await BY_NAME.update(conn, "a", n=7, colour="red")

    assert await conn.fetchval("SELECT n FROM things WHERE name = 'a'") == 1
    assert await conn.fetchval("SELECT colour FROM things WHERE name = 'a'") is None
