"""Buttons the services pre-build for the outbox parse with the handlers' CallbackData
factories: the packed strings are the same."""

from __future__ import annotations

from handlers.support_callbacks import Mine, Rate, Which
from handlers.tickets_staff import TicketAction, TicketPriority
from services.classification import Priority
from services.tickets import render


def test_staff_card_buttons_pack_like_the_services_build_them() -> None:
    for act in ("ack", "pri", "esc", "res", "back"):
        assert TicketAction(id=123, act=act).pack() == render.cb_action(123, act)  # type: ignore[arg-type]
    for priority in Priority:
        assert TicketPriority(id=123, p=priority).pack() == render.cb_priority(123, priority)


def test_customer_buttons_pack_like_the_services_build_them() -> None:
    assert Rate(id=7, n=5).pack() == render.cb_rate(7, 5)
    assert Mine(id=7, act="view").pack() == render.cb_customer(7, "view")
    assert Mine(id=7, act="close").pack() == render.cb_customer(7, "close")
    assert Which(id=7, m=42).pack() == "tw:7:42"


def test_service_strings_parse_back_with_the_factories() -> None:
    parsed = TicketPriority.unpack(render.cb_priority(9, Priority.P0))
    assert (parsed.id, parsed.p) == (9, Priority.P0)
    assert Rate.unpack(render.cb_rate(9, 3)).n == 3
