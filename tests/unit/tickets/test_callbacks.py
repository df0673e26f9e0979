"""Buttons already sent keep working: the desk's button families (services/tickets/render.py)
pack and parse the very strings aiogram's CallbackData factories produced before the codec
replaced them (prefix, then each field, joined by ":")."""

from __future__ import annotations

import pytest

from services.buttons import Button
from services.classification import Priority
from services.tickets.render import Mine, Rate, TicketAction, TicketPriority, Which


@pytest.mark.parametrize(
    ("data", "press"),
    [
        ("tk:123:ack", TicketAction(123, "ack")),
        ("tk:123:pri", TicketAction(123, "pri")),
        ("tk:123:esc", TicketAction(123, "esc")),
        ("tk:123:res", TicketAction(123, "res")),
        ("tk:123:back", TicketAction(123, "back")),
        ("tp:9:P0", TicketPriority(9, Priority.P0)),
        ("tp:9:P3", TicketPriority(9, Priority.P3)),
        ("tr:9:3", Rate(9, 3)),
        ("tc:7:view", Mine(7, "view")),
        ("tc:7:close", Mine(7, "close")),
        ("tw:7:42", Which(7, 42)),
    ],
)
def test_the_strings_of_buttons_already_sent_still_mean_the_same(data: str, press: Button) -> None:
    assert press.pack() == data
    assert type(press).parse(data) == press
