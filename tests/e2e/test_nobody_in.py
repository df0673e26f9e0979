"""Nobody in: every privileged command, in every chat, and every privileged button, tried by a
person the permission table (services.staff) does not allow, is answered, audited under the
action it attempted, and changes nothing. A message sent on behalf of a chat (as a channel, or
by a group's anonymous admin) is such a person too, never "the bot itself".

The roles are read from the table: a new command or button family is enumerated here as soon
as it is in the table (tests/unit/test_permission_table.py keeps the table complete).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from jobs.registry import JOBS
from jobs.schedule import DEFAULT_SCHEDULE
from services import roster, staff
from services.alerts.render import AlertAction
from services.alerts.render_storm import StormAction
from services.checks.render import BackupAction, HealthDetail
from services.classification import Priority
from services.escalation.render import IncidentAction
from services.maintenance.render import JobAction
from services.massincident.buttons import CardAction, NoticeAnswer, ProposalAnswer, PublicRate
from services.oncall.render import CoverPick, RotationDraft, SwapAnswer
from services.quarterly.render import QuarterAction
from services.rooms.render_offers import RoomOffer
from services.rules import Rules
from services.staff import ChatKind
from services.tickets import history, store
from services.tickets.model import TicketStatus
from services.tickets.render import Mine, Rate, TicketAction, TicketPriority, Which
from services.users import Role
from tests.cast import ADMIN, ALICE, BUDI
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_support_story import card_of, choose_indonesian, open_ticket

SARI = 1010  # a support engineer
TONO = 1030  # in the admin chat and the support group, without any role
BUDI_TICKET, ALICE_TICKET, INCIDENT = 1, 2, 3  # QC-000001, QC-000002, QC-000003
APOLOGY = ("Something went wrong", "Terjadi kesalahan")

# What a refused attempt must leave as it was: every table an action writes.
STATE_TABLES = (
    "tickets",
    "ticket_events",
    "ticket_messages",
    "users",
    "staff",
    "oncall_slots",
    "oncall_rotations",
    "oncall_drafts",
    "oncall_overrides",
    "oncall_swaps",
    "oncall_calendars",
    "oncall_contacts",
    "alert_silences",
    "alert_groups",
    "maintenance_windows",
    "maintenance_runs",
    "incidents",
    "incident_messages",
)


@dataclass(frozen=True)
class Desk:
    """The world the attempts are made in: two customers' tickets, an open incident."""

    world: World
    budi_topic: int

    @property
    def pool(self) -> asyncpg.Pool:
        return self.world.pool

    def chat(self, kind: ChatKind, user_id: int) -> tuple[int, int | None]:
        """The chat (and forum topic) a person writes in: their own private chat, the admin
        chat, or Budi's ticket topic in the support group (where a command finds a ticket)."""
        if kind is ChatKind.PRIVATE:
            return user_id, None
        if kind is ChatKind.ADMIN:
            return self.world.admin_chat_id, None
        return self.world.support_chat_id, self.budi_topic


async def state(pool: asyncpg.Pool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for table in STATE_TABLES:
        found[table] = await pool.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        )
    found["outbox rows"] = await pool.fetchval("SELECT count(*) FROM outbox")
    return found


async def settled(pool: asyncpg.Pool, timeout: float = 15.0) -> None:
    """Every notification of the setup delivered: nothing moves any more."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await pool.fetchval("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"):
        assert asyncio.get_running_loop().time() < deadline, "the outbox never drained"
        await asyncio.sleep(0.05)


async def last_audit_id(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(max(id), 0) FROM audit_log"))


async def refusals_since(pool: asyncpg.Pool, after: int, actor: int) -> list[asyncpg.Record]:
    """The refusals written for `actor` after audit row `after` (waiting briefly for them)."""
    deadline = asyncio.get_running_loop().time() + 3
    while True:
        rows: list[asyncpg.Record] = await pool.fetch(
            "SELECT action, target, chat_id, details FROM audit_log"
            " WHERE id > $1 AND actor_id = $2 AND NOT allowed ORDER BY id",
            after,
            actor,
        )
        if rows or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)


def is_apology(text: str | None) -> bool:
    return any(word in (text or "") for word in APOLOGY)


@pytest.fixture
def e2e_rules() -> Rules:
    """The maintenance schedule off: the world runs on the real clock, and a nightly job falling
    due mid-test (log rotation, 02:00 in Jakarta) writes maintenance_runs, a table the attempts
    must leave as it was."""
    return fast_rules(schedule={"jobs": {name: {"enabled": False} for name in DEFAULT_SCHEDULE}})


@pytest.fixture
async def desk(world: World) -> Desk:
    await choose_indonesian(world, BUDI)
    await open_ticket(world, BUDI, "payment", "QRIS gagal tapi saldo terpotong", None)
    await choose_indonesian(world, ALICE)
    await open_ticket(world, ALICE, "order", "My order never arrived", None)
    card = await card_of(world, "QC-000001")
    await world.tg.create_user(SARI, first_name="Sari", username="sari_cs", language_code="id")
    await world.tg.create_user(TONO, first_name="Tono", username="tono", language_code="id")
    await roster.add_member(
        world.pool, user_id=SARI, display_name="Sari", roles=[Role.SUPPORT_ENGINEER],
        added_by=ADMIN,
    )  # fmt: skip
    sent = await world.send(ADMIN, "/incident P2 Disk hampir penuh", chat_id=world.admin_chat_id)
    opened = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    assert "QC-000003" in opened["text"], opened
    for user_id in (SARI, TONO):  # everyone has said something to the bot once
        sent = await world.send(user_id, "/help")
        await world.reply_to(user_id, after=sent["message_id"])
    await settled(world.pool)
    return Desk(world, card["message_thread_id"])


# -- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    name: str
    user_id: int
    roles: frozenset[str]
    chat: ChatKind


PERSONAS = [
    Persona("customer in private", BUDI, frozenset(), ChatKind.PRIVATE),
    Persona("non-staff in the admin chat", TONO, frozenset(), ChatKind.ADMIN),
    Persona("non-staff in the support group", TONO, frozenset(), ChatKind.SUPPORT),
    *(
        Persona(f"support engineer in {kind}", SARI, frozenset({Role.SUPPORT_ENGINEER}), kind)
        for kind in (ChatKind.ADMIN, ChatKind.SUPPORT, ChatKind.PRIVATE)
    ),
]


def attempts(roles: frozenset[str], chat: ChatKind | None = None) -> list[tuple[str, staff.Action]]:
    """Every command of the table, bare, naming a ticket, and with each subcommand, that these
    roles may not use (in that kind of chat): the text to send and the action it must be
    refused (and audited) as."""
    found = []
    for name, rule in sorted(staff.COMMANDS.items()):
        for args in ["", "QC-000001", *rule.subcommands]:
            action = rule.action_for(args, chat)
            if not staff.may(roles, action):
                found.append((f"/{name} {args}".strip(), action))
    return found


def test_every_command_is_tried_by_everyone_it_is_not_for() -> None:
    tried = {text.split()[0][1:] for persona in PERSONAS for text, _ in attempts(persona.roles)}
    assert tried == set(staff.COMMANDS)
    admin_only = {text for text, _ in attempts(frozenset({Role.SUPPORT_ENGINEER}))}
    assert {"/runjob", "/ban", "/unban", "/staff add", "/oncall set"} <= admin_only


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
async def test_every_privileged_command_is_refused_answered_and_audited(
    desk: Desk, persona: Persona
) -> None:
    world = desk.world
    chat_id, thread_id = desk.chat(persona.chat, persona.user_id)
    failures: list[str] = []
    for text, action in attempts(persona.roles, persona.chat):
        before, audit_mark = await state(desk.pool), await last_audit_id(desk.pool)
        sent = await world.send(persona.user_id, text, chat_id=chat_id, thread_id=thread_id)
        reply = await world.tg.wait_for_message(chat_id, after_message_id=sent["message_id"])
        refusals = await refusals_since(desk.pool, audit_mark, persona.user_id)
        if is_apology(reply.get("text")):
            failures.append(f"{text}: an apology instead of an answer: {reply['text']!r}")
        if [r["action"] for r in refusals] != [action.value]:
            failures.append(f"{text}: audited as {[r['action'] for r in refusals]}, not {action}")
        elif refusals[0]["chat_id"] != chat_id:
            failures.append(f"{text}: audited in chat {refusals[0]['chat_id']}, not {chat_id}")
        if (after := await state(desk.pool)) != before:
            changed = sorted(k for k in after if after[k] != before[k])
            failures.append(f"{text}: changed {changed}")
    assert not failures, f"{persona.name}:\n" + "\n".join(failures)


async def test_a_staff_command_in_a_private_chat_never_reaches_the_customers_ticket(
    desk: Desk,
) -> None:
    world = desk.world
    before = await history.messages(desk.pool, BUDI_TICKET)
    for name, rule in sorted(staff.COMMANDS.items()):
        if ChatKind.PRIVATE in rule.chats:
            continue
        sent = await world.send(BUDI, f"/{name} QC-000001")
        reply = await world.reply_to(BUDI, after=sent["message_id"])
        assert f"/{name}" in reply["text"], reply
    assert await history.messages(desk.pool, BUDI_TICKET) == before


# -- buttons ----------------------------------------------------------------------------------

# How to press each family, with another person's ids: Alice's ticket, the open incident.
PRESS: dict[str, Callable[[str], str]] = {
    "tk": lambda act: TicketAction(id=ALICE_TICKET, act=act).pack(),  # type: ignore[arg-type]
    "tp": lambda act: TicketPriority(id=ALICE_TICKET, p=Priority.P0).pack(),
    "inc": lambda act: IncidentAction(ticket_id=INCIDENT, act=act, level=1).pack(),  # type: ignore[arg-type]
    "al": lambda act: AlertAction(g=1, a=act).pack(),  # type: ignore[arg-type]
    "st": lambda act: StormAction(s=1, a=act, g=1).pack(),  # type: ignore[arg-type]
    "hc": lambda act: HealthDetail(name="all").pack(),
    "bs": lambda act: BackupAction(action="refresh").pack(),
    "mj": lambda act: JobAction(act=act, job=next(iter(JOBS))).pack(),
    "tc": lambda act: Mine(id=ALICE_TICKET, act=act).pack(),  # type: ignore[arg-type]
    "tr": lambda act: Rate(id=ALICE_TICKET, n=5).pack(),
    "tw": lambda act: Which(id=ALICE_TICKET, m=1).pack(),
    "rot": lambda act: RotationDraft(id=1, act=act).pack(),  # type: ignore[arg-type]
    "osw": lambda act: SwapAnswer(id=1, act=act).pack(),  # type: ignore[arg-type]
    "ocv": lambda act: CoverPick(act=act, r=0, t=1_800_000_000, u=SARI).pack(),  # type: ignore[arg-type]
    "qt": lambda act: QuarterAction(act=act, task=1).pack(),  # type: ignore[arg-type]
    "mn": lambda act: NoticeAnswer(id=ALICE_TICKET, act=act).pack(),  # type: ignore[arg-type]
    "mr": lambda act: PublicRate(id=INCIDENT, n=5).pack(),
    "mp": lambda act: ProposalAnswer(id=1, act=act).pack(),  # type: ignore[arg-type]
    "mc": lambda act: CardAction(id=INCIDENT, act=act).pack(),  # type: ignore[arg-type]
    "ro": lambda act: RoomOffer(id=1, act=act).pack(),  # type: ignore[arg-type]
}
# Where each family's messages are: the support group (ticket cards), the presser's private
# chat (a customer's own tickets), the admin chat (everything else).
WHERE = {"tk": ChatKind.SUPPORT, "tp": ChatKind.SUPPORT, "tc": ChatKind.PRIVATE,
         "tr": ChatKind.PRIVATE, "tw": ChatKind.PRIVATE, "mn": ChatKind.PRIVATE,
         "mr": ChatKind.PRIVATE}  # fmt: skip
PRESSERS = {BUDI: frozenset[str](), SARI: frozenset({Role.SUPPORT_ENGINEER})}


async def test_every_privileged_button_is_refused_answered_and_audited(desk: Desk) -> None:
    assert set(PRESS) == set(staff.BUTTONS)
    world = desk.world
    failures: list[str] = []
    for prefix, presses in sorted(staff.BUTTONS.items()):
        for act, action in presses.items():
            for user_id, roles in PRESSERS.items():
                if staff.may(roles, action):
                    continue
                data = PRESS[prefix](act)
                chat_id, _ = desk.chat(WHERE.get(prefix, ChatKind.ADMIN), user_id)
                message = next(
                    m
                    for m in reversed(await world.tg.messages(chat_id))
                    if m["from"].get("is_bot") and not m.get("is_service")
                )
                before, audit_mark = await state(desk.pool), await last_audit_id(desk.pool)
                query = await world.tg.press(
                    user_id, chat_id, message["message_id"], data, force=True
                )
                answer = await world.tg.callback_answer(query)
                refusals = await refusals_since(desk.pool, audit_mark, user_id)
                who = f"{data} by {user_id}"
                if is_apology(answer.get("text")) or not answer.get("text"):
                    failures.append(f"{who}: answered {answer.get('text')!r}")
                if [r["action"] for r in refusals] != [action.value]:
                    failures.append(f"{who}: audited as {[r['action'] for r in refusals]}")
                if (after := await state(desk.pool)) != before:
                    failures.append(f"{who}: changed {[k for k in after if after[k] != before[k]]}")
    assert not failures, "\n".join(failures)


# -- on behalf of a chat ----------------------------------------------------------------------


@pytest.mark.parametrize("sender", ["channel", "anonymous admin"])
async def test_a_message_sent_on_behalf_of_a_chat_closes_nothing(desk: Desk, sender: str) -> None:
    world = desk.world
    support = world.support_chat_id
    if sender == "channel":
        channel = await world.tg.create_chat("QuickCart Promo", type="channel", admins=[ADMIN])
        as_chat = int(channel["id"])
    else:
        as_chat = support  # Rina, an admin of the group, writes as the group
    failures: list[str] = []
    for text, action in [("/close QC-000001", "ticket.close"), ("/tickets", "ticket.list")]:
        audit_mark = await last_audit_id(desk.pool)
        sent = await world.send(ADMIN, text, chat_id=support, as_chat=as_chat)
        assert sent["from"]["is_bot"] and sent["sender_chat"]["id"] == as_chat
        reply = await world.reply_to(support, after=sent["message_id"])
        if is_apology(reply["text"]):
            failures.append(f"{text}: {reply['text']!r}")
        refusals = await refusals_since(desk.pool, audit_mark, as_chat)
        if [(r["action"], r["chat_id"]) for r in refusals] != [(action, support)]:
            failures.append(f"{text}: audited {[dict(r) for r in refusals]}")
    ticket = await store.get(desk.pool, BUDI_TICKET)
    assert ticket.status is TicketStatus.OPEN, "a chat closed a customer's ticket"
    assert "closed" not in [e.kind for e in await history.timeline(desk.pool, BUDI_TICKET)]
    assert not failures, "\n".join(failures)
