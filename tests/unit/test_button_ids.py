"""Button data with a number no id can have is recognised before any factory parses it."""

from __future__ import annotations

import pytest

from handlers.buttons import BIGINT_MAX, BIGINT_MIN, has_impossible_id
from handlers.tickets_staff import TicketAction

HUGE = 2**66


@pytest.mark.parametrize(
    ("data", "impossible"),
    [
        (f"tk:{HUGE}:res", True),
        (f"tp:{HUGE}:P0", True),
        (f"tw:1:{HUGE}", True),
        (f"inc:1:ack:{HUGE}", True),
        (f"al:{-HUGE}:ack", True),
        (f"tk:{BIGINT_MAX + 1}:res", True),
        (f"tk:{BIGINT_MIN - 1}:res", True),
        (f"tk:{BIGINT_MAX}:res", False),
        (f"tk:{BIGINT_MIN}:res", False),
        ("tk:123:res", False),
        ("hc:all", False),
        ("lang:id", False),
        ("garbage", False),
        ("", False),
        (None, False),
    ],
)
def test_ids_outside_postgresqls_bigint_are_impossible(data: str | None, impossible: bool) -> None:
    assert has_impossible_id(data) is impossible


def test_the_factories_alone_would_let_such_an_id_through() -> None:
    """Why the guard exists: pydantic ints are unbounded, PostgreSQL's bigint is not."""
    assert TicketAction.unpack(f"tk:{HUGE}:res").id == HUGE
