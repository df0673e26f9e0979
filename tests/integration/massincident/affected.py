"""Ani, Bob and Cici: three customers a payment outage hits (Bob reads English, the others
Bahasa Indonesia), and what the fan-out and incident-room tests do with them: store them,
have Tono declare the outage public, have each of them write in and be linked to it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg

from services.clock import FrozenClock
from services.escalation.context import EscalationContext
from services.escalation.policy import EscalationRules
from services.massincident import declare, intake
from services.massincident.config import MassContext, MassRules
from services.tickets.model import Incoming
from tests.cast import person
from tests.integration.escalation.conftest import ADMIN_CHAT, SUPPORT_CHAT, TONO

ANI, BOB, CICI = 1101, 1102, 1103


def mass_context(rules: MassRules) -> MassContext:
    """The mass-incident context of these tests: the default escalation tree, Jakarta time, the
    escalation tests' admin and support chats."""
    ctx = EscalationContext(
        rules=EscalationRules(), tz=ZoneInfo("Asia/Jakarta"), tz_name="Asia/Jakarta",
        admin_chat_id=ADMIN_CHAT, support_chat_id=SUPPORT_CHAT,
    )  # fmt: skip
    return MassContext(ctx, rules)


async def add_customers(db: asyncpg.Pool) -> None:
    for uid, name, lang in ((ANI, "Ani", "id"), (BOB, "Bob", "en"), (CICI, "Cici", "id")):
        await db.execute(
            "INSERT INTO users (id, first_name, language) VALUES ($1, $2, $3)", uid, name, lang
        )


async def declare_payment_outage(
    db: asyncpg.Pool, clock: FrozenClock, mctx: MassContext, tid: int
) -> None:
    """Tono declares incident `tid` public for the payment category, with an Indonesian notice."""
    tono = await person(db, TONO)
    await declare.declare(
        db, clock, mctx, tid, tono, categories=("payment",), notice_id="Pembayaran sedang gangguan."
    )


async def customers_write(
    db: asyncpg.Pool, mctx: MassContext, clock: FrozenClock, text: str
) -> None:
    """Ani, Bob and Cici each write `text`; each is linked to the declared incident."""
    for n, uid in enumerate((ANI, BOB, CICI)):
        incoming = Incoming(chat_id=uid, message_id=n + 1, author_id=uid, kind="text", text=text)
        customer = await person(db, uid)
        taken = await intake.customer_wrote(db, mctx, clock, customer=customer, incoming=incoming)
        assert taken is not None and taken.outcome == "linked"
