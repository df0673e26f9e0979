"""The mass-incident button families, defined once (services.buttons): the services build them
for the outbox, the handlers read them with `Press(...)`.

- `mn:<ticket>:<act>`: a customer's answer to the notice or to the offer of a link
  (diff: my problem is different, ok, link: yes add my ticket, no), or, after the fix, to
  "is the problem still there?" (again: yes, reopen; fine: no, it works)
- `mr:<incident>:<stars>`: a linked customer's rating after the resolution
- `mp:<proposal>:<act>`: staff confirm (decl) or dismiss (no) a proposed incident
- `mc:<incident>:<act>`: the staff card (res: resolve, upd: update customers)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.buttons import Button, button
from services.message import Keyboard as Keyboard
from services.message import key, keyboard


@button("mn")
@dataclass(frozen=True)
class NoticeAnswer(Button):
    id: int
    act: Literal["diff", "ok", "link", "no", "again", "fine"]


@button("mr")
@dataclass(frozen=True)
class PublicRate(Button):
    id: int
    n: int


@button("mp")
@dataclass(frozen=True)
class ProposalAnswer(Button):
    id: int
    act: Literal["decl", "no"]


@button("mc")
@dataclass(frozen=True)
class CardAction(Button):
    id: int
    act: Literal["res", "upd"]


def notice(ticket_id: int, act: Literal["diff", "ok", "link", "no", "again", "fine"]) -> str:
    return NoticeAnswer(ticket_id, act).pack()


def rate(incident_id: int, stars: int) -> str:
    return PublicRate(incident_id, stars).pack()


def proposal(proposal_id: int, act: Literal["decl", "no"]) -> str:
    return ProposalAnswer(proposal_id, act).pack()


def card(incident_id: int, act: Literal["res", "upd"]) -> str:
    return CardAction(incident_id, act).pack()


__all__ = [
    "CardAction", "Keyboard", "NoticeAnswer", "ProposalAnswer", "PublicRate", "card", "key",
    "keyboard", "notice", "proposal", "rate",
]  # fmt: skip
