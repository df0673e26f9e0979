"""What renderers hand the outbox (services/message.py) and what a run stores of a task's result
(services/results.py): the Bot API's shapes and the JSON, written once for every feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from services.message import Rendered, html, key, keyboard
from services.results import as_json
from services.tickets.render import TicketAction


@pytest.mark.parametrize(
    ("text", "markup", "expected"),
    [
        ("<b>P1</b> &amp; more", None, {"text": "<b>P1</b> &amp; more", "parse_mode": "HTML"}),
        (
            "pick one",
            {"inline_keyboard": []},
            {"text": "pick one", "parse_mode": "HTML", "reply_markup": {"inline_keyboard": []}},
        ),
    ],
)
def test_an_html_payload_carries_its_keyboard_only_when_it_has_one(
    text: str, markup: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert html(text, markup) == expected
    assert Rendered(text, markup).payload() == expected


def test_a_keyboard_of_keys_packs_each_press_and_leaves_empty_rows_out() -> None:
    first = key("✅ Resolve", TicketAction(7, "res").pack())
    assert first == {"text": "✅ Resolve", "callback_data": "tk:7:res"}
    assert keyboard([[first], [], [key("« Back", TicketAction(7, "back").pack())]]) == {
        "inline_keyboard": [
            [{"text": "✅ Resolve", "callback_data": "tk:7:res"}],
            [{"text": "« Back", "callback_data": "tk:7:back"}],
        ]
    }


@dataclass(frozen=True)
class _Step:
    kind: str
    target: str


@dataclass
class _Item:
    name: str
    tags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name.upper()}


@dataclass
class _Result:
    deleted: int
    seconds: float
    items: list[_Item] = field(default_factory=list)
    steps: tuple[_Step, ...] = ()
    first: _Item | None = None
    by_actor: dict[int, int] = field(default_factory=dict)


def test_a_result_is_stored_field_by_field_with_what_is_shown_otherwise() -> None:
    result = _Result(
        deleted=3,
        seconds=1.23456,
        items=[_Item("a"), _Item("b")],
        steps=(_Step("vacuum", "public.t"),),
        first=_Item("a"),
        by_actor={5: 2},
    )

    stored = as_json(result, seconds=round(result.seconds, 2), freed=10)

    assert stored == {
        "deleted": 3,
        "seconds": 1.23,  # shown rounded: the override wins over the field
        "items": [{"name": "A"}, {"name": "B"}],  # a nested result through its own to_json
        "steps": [{"kind": "vacuum", "target": "public.t"}],  # one without: field by field
        "first": {"name": "A"},
        "by_actor": {5: 2},
        "freed": 10,  # computed from the fields
    }
    assert as_json(_Result(0, 0.0))["first"] is None
