"""services.storage.records: the one row -> record mapper the stores share."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from services.storage.records import columns, jsonb, record, rowcount


@dataclass(frozen=True)
class Entry:
    id: int
    title: str
    tags: tuple[str, ...]
    note: str | None = None
    seen: int = field(default=0, init=False)


def test_every_field_is_read_from_the_column_of_its_name() -> None:
    row = {"id": 7, "title": "Checkout down", "tags": ("p1",), "note": "n", "extra": "ignored"}
    assert record(Entry, row) == Entry(7, "Checkout down", ("p1",), "n")


def test_given_fields_are_taken_as_given_and_their_columns_not_read() -> None:
    row = {"id": 7, "subject": "Checkout down", "tags": ["p1", "p2"], "note": None}
    found = record(Entry, row, title=row["subject"], tags=tuple(row["tags"]))
    assert found == Entry(7, "Checkout down", ("p1", "p2"), None)


def test_a_column_the_query_lost_fails_loudly_even_with_a_default() -> None:
    with pytest.raises(KeyError, match="note"):
        record(Entry, {"id": 7, "title": "t", "tags": ()})


def test_a_given_name_that_is_no_field_is_an_error() -> None:
    with pytest.raises(TypeError, match="titel"):
        record(Entry, {"id": 7, "title": "t", "tags": (), "note": None}, titel="x")


def test_columns_lists_the_fields_a_constructor_takes() -> None:
    assert columns(Entry) == "id, title, tags, note"
    assert columns(Entry, prefix="e.") == "e.id, e.title, e.tags, e.note"


def test_jsonb_reads_text_and_decoded_values_alike() -> None:
    assert jsonb('{"a": [1, "<&>"]}') == {"a": [1, "<&>"]}
    assert jsonb({"a": 1}) == {"a": 1}
    assert jsonb(None) is None


def test_rowcount_reads_asyncpg_command_tags() -> None:
    assert rowcount("INSERT 0 1") == 1
    assert rowcount("UPDATE 11") == 11
    assert rowcount("DELETE 0") == 0
