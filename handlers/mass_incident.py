"""Customer-facing incidents in chat (services/massincident).

Staff: `/incident public|notice|match QC-…`, `/update <text>` in a customer-facing incident's
topic of the support group (strictly there: an incident room's own `/update` lives in another
router), the incident messages' "Customer-facing" button, the card's "Update customers" (the
text is the presser's next message there) and Resolve, and the proposal's Declare buttons.
The customer's side is handlers/mass_incident_customers.py.
"""

from __future__ import annotations

import re

import asyncpg
from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command, press
from handlers.buttons import Press, chat_of, settle
from handlers.refusals import Usage, answers, refusal
from handlers.routes import Routes
from services import staff
from services.classification import Category
from services.clock import Clock
from services.escalation import incidents
from services.escalation.incidents import IncidentError
from services.escalation.render import IncidentAction
from services.massincident import declare, fanout, propose, store
from services.massincident import render as texts
from services.massincident.buttons import CardAction, ProposalAnswer
from services.massincident.config import MassContext
from services.massincident.model import PublicIncident, parse_keywords
from services.staff import Action
from services.text import esc
from services.tickets.model import parse_ticket_number
from services.users import Person

router = Routes(__name__)


def refused(error: Exception) -> str:
    """The sentence for an incident error of any staff command or button here (`answers`)."""
    if isinstance(error, declare.NotPublic):
        return _("This incident is not customer-facing. /incident public QC-000123 makes it so.")
    if isinstance(error, propose.ProposalGone):
        return _("Someone already decided on this proposal.")
    return refusal(error)


answers(router, IncidentError, refused)


# -- staff: /incident public|notice|match -----------------------------------------------------

SUBCOMMAND = re.compile(r"^/incident(?:@\w+)?\s+(public|notice|match)\b", re.IGNORECASE)


def split_match(spec: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """'everyone' | 'payment, pembayaran gagal' -> (categories, keywords, everyone)."""
    words = parse_keywords(spec)
    if any(w.casefold() in ("everyone", "semua") for w in words):
        return (), (), True
    categories = tuple(w for w in words if w in {c.value for c in Category})
    keywords = tuple(w for w in words if w not in categories)
    return categories, keywords, False


@command(router, "incident", "mass", F.text.regexp(SUBCOMMAND))
async def cmd_incident_public(message: Message, asked: Asked[MassContext]) -> None:
    person, pool, clock, mass = asked.person, asked.pool, asked.clock, asked.ctx
    words = asked.args.split(maxsplit=2)
    sub = words[0].lower()
    ticket_id = parse_ticket_number(words[1]) if len(words) > 1 else None
    rest = words[2] if len(words) > 2 else ""
    if ticket_id is None:
        raise Usage(
            _(
                "Usage: /incident public QC-000123 [everyone | categories and keywords, "
                "comma-separated]; /incident notice QC-000123 id|en <text>; "
                "/incident match QC-000123 everyone | payment, pembayaran gagal"
            )
        )
    if sub == "public":
        categories, keywords, everyone = split_match(rest) if rest else (None, (), False)
        done = await declare.declare(
            pool, clock, mass, ticket_id, person, categories=categories, keywords=keywords,
            everyone=everyone, chat_id=message.chat.id,
        )  # fmt: skip
        await message.answer(declared_text(done))
    elif sub == "notice":
        parts = rest.split(maxsplit=1)
        language = parts[0].lower() if parts else ""
        if language not in ("id", "en"):
            raise Usage(_("Usage: /incident notice QC-000123 id|en <text>"))
        public = await declare.set_notice(
            pool, clock, mass, ticket_id, person, language,
            parts[1] if len(parts) > 1 else "", chat_id=message.chat.id,
        )  # fmt: skip
        await message.answer(notice_changed(public, language))
    else:
        categories, keywords, everyone = split_match(rest)
        public = await declare.set_match(
            pool, clock, mass, ticket_id, person, categories=categories, keywords=keywords,
            everyone=everyone, chat_id=message.chat.id,
        )  # fmt: skip
        await message.answer(
            _("{number} now matches: {match}.").format(
                number=public.number, match=esc(texts.match_text(public))
            )
        )


def declared_text(done: declare.Declared) -> str:
    """What staff read after `/incident public` or the incident's "Customer-facing" button."""
    if not done.changed:
        return _("{number} is customer-facing already.").format(number=done.incident.number)
    return _(
        "{number} is customer-facing: customers whose message matches ({match}) get "
        "the notice at once. {offered} customers with an open matching ticket were "
        "offered the link. Edit the notice with /incident notice {number} "
        "id|en &lt;text&gt;."
    ).format(
        number=done.incident.number,
        match=esc(texts.match_text(done.incident)),
        offered=done.offered,
    )


def notice_changed(public: PublicIncident, language: str) -> str:
    text = _("The {language} notice of {number} is saved.").format(
        language=language, number=public.number
    )
    missing = public.missing_language
    if missing == "en":
        text += "\n" + _("⚠️ No English notice: English customers get the Indonesian one.")
    elif missing == "id":
        text += "\n" + _("⚠️ No Indonesian notice: Indonesian customers get the English one.")
    return text


# -- staff: /update in the incident's topic ---------------------------------------------------


def queued_text(sent: fanout.Sent) -> str:
    """What staff read once an update to customers (`/update`, "Update customers") is queued."""
    return _(
        "Update queued for {total} customers ({blocked} blocked the bot); the card shows the "
        "progress."
    ).format(total=sent.total, blocked=sent.blocked)


async def public_of(message: Message, pool: asyncpg.Pool) -> PublicIncident | None:
    if not message.is_topic_message or message.message_thread_id is None:
        return None
    return await store.by_topic(pool, message.chat.id, message.message_thread_id)


async def in_public_topic(message: Message, mass: MassContext, pool: asyncpg.Pool) -> bool:
    """Only the support group's topic of a customer-facing incident (an incident room's own
    `/update` is another router's)."""
    if mass.support_chat_id is None or message.chat.id != mass.support_chat_id:
        return False
    return await public_of(message, pool) is not None


@command(router, "update", "mass", in_public_topic, table=False)
async def cmd_update(message: Message, asked: Asked[MassContext]) -> None:
    """The table's word is the fan-out's (PUBLIC_UPDATE: /update means it here)."""
    public = await public_of(message, asked.pool)
    if public is None:  # the filter saw it a moment ago
        return
    text = asked.args.strip()
    if not text:
        raise Usage(_("Usage: /update <text> (or: /update id: <Indonesian> en: <English>)"))
    sent = await fanout.send_customer_update(
        asked.pool, asked.clock, asked.ctx, public.ticket_id, text, asked.person,
        chat_id=asked.chat_id,
    )  # fmt: skip
    await message.answer(queued_text(sent))


async def in_support_chat(message: Message, mass: MassContext) -> bool:
    return mass.support_chat_id is not None and message.chat.id == mass.support_chat_id


@router.message(Command("update"), in_support_chat)
async def cmd_update_elsewhere(message: Message, person: Person, pool: asyncpg.Pool) -> None:
    """`/update` in the support group outside a customer-facing incident's topic: the table's
    word first (a refusal is answered and audited), then where it belongs."""
    await staff.require(pool, person, Action.PUBLIC_UPDATE, chat_id=message.chat.id)
    await message.answer(
        esc(_("Usage: /update <text> (or: /update id: <Indonesian> en: <English>)"))
        + "\n"
        + _("It works in the topic of a customer-facing incident.")
    )


# -- staff: buttons ---------------------------------------------------------------------------


@press(router, IncidentAction, "mass", F.act == "pub")
async def on_declare(
    query: CallbackQuery, callback_data: IncidentAction, asked: Asked[MassContext]
) -> None:
    """The incident's "Customer-facing" button: `/incident public QC-…` by a press (the notice
    proposed from its title, the match from its category; both editable after)."""
    done = await declare.declare(
        asked.pool, asked.clock, asked.ctx, callback_data.ticket_id, asked.person,
        chat_id=asked.chat_id, via="button",
    )  # fmt: skip
    if not done.changed:
        await query.answer(declared_text(done), show_alert=True)
        return
    await query.answer(
        _("{number} is declared customer-facing.").format(number=done.incident.number)
    )
    if isinstance(query.message, Message):
        await query.message.answer(declared_text(done))


class PublicUpdate(StatesGroup):
    """The card's "Update customers": the presser's next message in that chat (and topic),
    within PROMPT_SECONDS (a message days later is not taken for an update to every customer)."""

    text = State()


PROMPT_SECONDS = 600


@router.callback_query(Press(CardAction, F.act == "upd"))
async def on_card_update(
    query: CallbackQuery, callback_data: CardAction, person: Person, pool: asyncpg.Pool,
    clock: Clock, state: FSMContext,
) -> None:  # fmt: skip
    chat_id = chat_of(query)
    number = f"QC-{callback_data.id:06d}"
    await staff.require(pool, person, Action.PUBLIC_UPDATE, target=number, chat_id=chat_id)
    public = await store.get(pool, callback_data.id)
    if public is None or public.ended_at is not None:
        error = declare.NotPublic(number) if public is None else incidents.AlreadyResolved(number)
        await query.answer(refused(error), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer(_("This message is too old; use /update in the incident's topic."),
                           show_alert=True)  # fmt: skip
        return
    await state.set_state(PublicUpdate.text)
    await state.update_data(
        incident=public.ticket_id, thread=query.message.message_thread_id,
        asked=clock.now().timestamp(),
    )  # fmt: skip
    await query.answer()
    await query.message.answer(
        _(
            "Write the update for the customers of {number} as your next message here "
            "(<code>id: … en: …</code> for a text per language). /cancel sends nothing."
        ).format(number=public.number)
    )


async def same_thread(message: Message, state: FSMContext) -> bool:
    """The answer to "Update customers" is taken only where it was asked (a reply in a ticket's
    topic meanwhile goes its usual way)."""
    data = await state.get_data()
    return "incident" in data and data.get("thread") == message.message_thread_id


@router.message(PublicUpdate.text, Command("cancel"), same_thread)
async def on_update_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Nothing was sent to customers."))


@router.message(PublicUpdate.text, same_thread, ~F.text.startswith("/"))
async def on_update_text(
    message: Message, state: FSMContext, person: Person, pool: asyncpg.Pool, clock: Clock,
    mass: MassContext,
) -> None:  # fmt: skip
    data = await state.get_data()
    if clock.now().timestamp() - float(data.get("asked") or 0) > PROMPT_SECONDS:
        await state.clear()  # asked too long ago: the message goes its usual way
        raise SkipHandler
    if not (message.text or "").strip():
        await message.answer(_("Please send the update as text, or /cancel."))
        return
    incident_id = int(data["incident"])
    await state.clear()
    sent = await fanout.send_customer_update(
        pool, clock, mass, incident_id, message.text or "", person, chat_id=message.chat.id
    )
    await message.answer(queued_text(sent))


@press(router, CardAction, "mass", F.act == "res")
async def on_card(
    query: CallbackQuery, callback_data: CardAction, asked: Asked[MassContext]
) -> None:
    outcome = await incidents.resolve(
        asked.pool, asked.clock, asked.ctx.escalation, callback_data.id, asked.person,
        chat_id=asked.chat_id,
    )  # fmt: skip
    await query.answer(_("{number} is resolved.").format(number=outcome.number))


@press(router, ProposalAnswer, "mass")
async def on_proposal(
    query: CallbackQuery, callback_data: ProposalAnswer, asked: Asked[MassContext]
) -> None:
    pool, clock, person, chat_id = asked.pool, asked.clock, asked.person, asked.chat_id
    if callback_data.act == "no":
        await propose.dismiss(pool, clock, callback_data.id, person, chat_id=chat_id)
        await settle(query, _("Dismissed."))
    else:
        done = await propose.confirm(
            pool, clock, asked.ctx, callback_data.id, person, chat_id=chat_id
        )
        await settle(
            query, _("{number} is declared customer-facing.").format(number=done.incident.number)
        )
