"""One-row statements written from their columns, for the stores whose SQL is nothing more:
`INSERT INTO t (a, b) VALUES ($1, $2)`, `UPDATE t SET a = $2, b = $3 WHERE id = $1` and
`SELECT EXISTS (SELECT 1 FROM t WHERE ...)`. The placeholders are numbered and the arguments
put in their order here, once, from the keywords a store passes.

A store names its table once (`Table("incident_room_offers")`). Where the columns to set come
from the store's callers (`store.update(conn, ticket_id, **{f"{role}_id": user_id})`), the table
lists the ones they may set and anything else is refused. Table and column names are the code's
own words, never input; every value is a parameter. A statement with anything more (a join, a
CASE, a conflict clause, a lock) stays written out in its store.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.storage.types import Executor


def _param(value: Any) -> Any:
    """What asyncpg is given for a value: an enum's value, a tuple as a list (an array)."""
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Table:
    name: str
    key: str = "id"  # the column `update` finds the row by
    settable: frozenset[str] | None = None  # None: the store names its columns itself

    def assignments(self, values: Mapping[str, Any], first: int) -> tuple[str, list[Any]]:
        """`a = $first, b = $first+1, ...` for these columns (in name order, so the same
        columns make the same statement) and their values in that order."""
        if self.settable is not None and (unknown := set(values) - self.settable):
            raise ValueError(f"not a settable {self.name} column: {sorted(unknown)}")
        names = sorted(values)
        sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=first))
        return sets, [_param(values[name]) for name in names]

    async def update(self, db: Executor, key: Any, /, **values: Any) -> None:
        """Set these columns of the row whose key column is `key`."""
        sets, params = self.assignments(values, 2)
        await db.execute(f"UPDATE {self.name} SET {sets} WHERE {self.key} = $1", key, *params)

    def _insert(self, values: Mapping[str, Any]) -> str:
        places = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        return f"INSERT INTO {self.name} ({', '.join(values)}) VALUES ({places})"

    async def insert(self, db: Executor, /, **values: Any) -> None:
        """One row of these column values."""
        await db.execute(self._insert(values), *map(_param, values.values()))

    async def insert_id(self, db: Executor, /, **values: Any) -> int:
        """One row of these column values; its `id`."""
        sql = self._insert(values) + " RETURNING id"
        row_id: int = await db.fetchval(sql, *map(_param, values.values()))
        return row_id

    async def exists(self, db: Executor, where: str, /, *args: Any) -> bool:
        """Is there a row that `where` (its `$n` taking `args`) holds for?"""
        sql = f"SELECT EXISTS (SELECT 1 FROM {self.name} WHERE {where})"
        found: bool = await db.fetchval(sql, *args)
        return found
