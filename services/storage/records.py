"""Rows into records: the one mapper the stores share (and the count a statement reports).

A store's record is a frozen dataclass whose fields are, mostly, its query's columns by name.
`record(Ticket, row, status=TicketStatus(row["status"]))` reads every field from the row's
column of the same name, except the fields given: a column renamed in the record, parsed into
a richer type, or computed from several columns. A field missing from both is a KeyError (a
query that lost a column fails loudly, it is not filled with a default); a given name that is
no field is a TypeError.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


class Row(Protocol):
    """An asyncpg Record, a dict: anything read by column name."""

    def __getitem__(self, name: str, /) -> Any: ...


def record(cls: type[R], row: Row, **given: Any) -> R:
    """`cls` built from `row` by field name, with the fields in `given` taken from there."""
    names = (f.name for f in dataclasses.fields(cls) if f.init)
    return cls(**{name: row[name] for name in names if name not in given}, **given)


def columns(cls: type[DataclassInstance], *, prefix: str = "") -> str:
    """The record's field names as a SELECT list (`prefix` "t." qualifies each)."""
    return ", ".join(prefix + f.name for f in dataclasses.fields(cls) if f.init)


def jsonb(value: Any) -> Any:
    """A json/jsonb column as Python, whether the connection decoded it (the pool's codec,
    services.storage.db) or handed its text (a plain connection, or a `::text` column)."""
    return json.loads(value) if isinstance(value, str) else value


def rowcount(status: str) -> int:
    """How many rows a statement wrote, from asyncpg's command tag ('UPDATE 3', 'INSERT 0 1',
    'DELETE 0')."""
    return int(status.split()[-1])
