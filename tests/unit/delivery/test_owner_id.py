"""services/delivery/hooks.owner_id: the id a hook reads from its rows' owner keys (the ticket
desk's "ticket:42", a room's "room:42", a fan-out's "pubupd:7")."""

from __future__ import annotations

import pytest

from services.delivery.hooks import owner_id


@pytest.mark.parametrize(
    ("owner", "prefix", "expected"),
    [
        ("ticket:42", "ticket", 42),
        ("room:7", "room", 7),
        ("pubupd:9001", "pubupd", 9001),
        ("ticket:42", "room", None),  # another hook's row
        ("tickets:42", "ticket", None),  # a prefix that only starts the same
        ("ticket:", "ticket", None),
        ("ticket:4x2", "ticket", None),
        ("ticket:-1", "ticket", None),
        ("ticket:42:extra", "ticket", None),
        ("ticket", "ticket", None),
        ("", "ticket", None),
        (None, "ticket", None),
    ],
)
def test_owner_id(owner: str | None, prefix: str, expected: int | None) -> None:
    assert owner_id(owner, prefix) == expected
