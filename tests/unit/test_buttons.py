"""Every button family is built and read by one codec (services.buttons), under Telegram's
64 bytes at its longest, and refuses data it could not have packed (moved here from
test_button_ids.py, whose impossible-id guard the codec now is)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest

import handlers
from services.buttons import FAMILIES, MAX_BYTES, Button, ButtonDataError, Longest, button
from services.tickets.render import TicketAction, TicketPriority, Which

HUGE = 2**66
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

handlers.routers()  # every handler module imported: every family defined


def _longest(press: type[Button]) -> Button:
    """The press of the family with the longest value in every field."""
    hints = typing.get_type_hints(press, include_extras=True)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(press):  # type: ignore[arg-type]
        hint = hints[field.name]
        if hint is int:
            values[field.name] = BIGINT_MIN
        elif typing.get_origin(hint) is Literal:
            values[field.name] = max(typing.get_args(hint), key=lambda w: len(str(w)))
        elif typing.get_origin(hint) is Annotated:
            base, limit = typing.get_args(hint)[0], typing.get_args(hint)[1].chars
            values[field.name] = int("9" * limit) if base is int else "x" * limit
        else:  # a StrEnum
            values[field.name] = max(hint, key=lambda member: len(member.value))
    return press(**values)


def test_every_family_has_a_codec_and_there_are_all_of_them() -> None:
    assert {"tk", "tp", "tr", "tc", "tw", "inc", "al", "st", "hc", "bs", "mj", "qt", "rot", "osw",
            "ocv", "sm", "nc", "nk", "lang", "mn", "mr", "mp", "mc",
            "ro"} == set(FAMILIES)  # fmt: skip


@pytest.mark.parametrize("prefix", sorted(FAMILIES))
def test_every_family_round_trips_at_its_longest_within_64_bytes(prefix: str) -> None:
    press_type = FAMILIES[prefix].press
    press = _longest(press_type)
    data = press.pack()
    assert len(data.encode()) <= MAX_BYTES, data
    assert data == FAMILIES[prefix].longest
    assert press_type.parse(data) == press


def test_a_family_that_could_overflow_is_refused_where_it_is_defined() -> None:
    with pytest.raises(ButtonDataError, match="over 64 bytes"):

        @button("zz-test-long")
        @dataclass(frozen=True)
        class TooLong(Button):
            a: int
            b: int
            c: Annotated[str, Longest(20)]

    assert "zz-test-long" not in FAMILIES


def test_a_prefix_is_defined_once() -> None:
    with pytest.raises(ButtonDataError, match="taken"):

        @button("tk")
        @dataclass(frozen=True)
        class Again(Button):
            id: int


@pytest.mark.parametrize(
    "data",
    [
        f"tk:{HUGE}:res",
        f"tk:{BIGINT_MAX + 1}:res",
        f"tk:{BIGINT_MIN - 1}:res",
        "tk:1:delete",  # a word the family does not carry
        "tk:1",  # too few parts
        "tk:1:res:extra",
        "tk:1.5:res",
        "tk::res",
        "tp:1:P9",  # not a priority
        "tk:٣:res",  # a digit Python's int() reads, Telegram's ids never have
        "",
        "garbage",
        None,
    ],
)
def test_data_a_codec_could_not_have_packed_is_refused(data: str | None) -> None:
    assert TicketAction.parse(data) is None
    assert TicketPriority.parse(data) is None


def test_the_extremes_of_a_bigint_are_ids() -> None:
    assert TicketAction.parse(f"tk:{BIGINT_MAX}:res") == TicketAction(BIGINT_MAX, "res")
    assert Which.parse(f"tw:{BIGINT_MIN}:7") == Which(BIGINT_MIN, 7)


def test_packing_a_value_the_family_does_not_carry_fails_loudly() -> None:
    with pytest.raises(ButtonDataError):
        TicketAction(1, "delete").pack()  # type: ignore[arg-type]
