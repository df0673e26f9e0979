"""Fan-out through the outbox: private pages to a level's on-call people, group notices in the
admin chat, and in-place edits when the incident changes.

A group chat has one live card per incident, edited to the incident's current state; when the
incident moves on, the chat gets a short new line (replying to the card) instead of another
card. A person's page stays what it was when it paged them, with what happened since added
below it (render_page_history), so nobody's history is rewritten. A staff member who never
pressed Start is paged in the admin chat instead (services/delivery/not_started.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services import chats, outbox, roster
from services.escalation import store
from services.escalation.context import EscalationContext
from services.escalation.policy import level_deadline
from services.escalation.render import (
    IncidentView,
    Mention,
    Variant,
    render_incident,
    render_level_line,
    render_page_history,
)
from services.escalation.store import Incident
from services.i18n import use_locale
from services.massincident import store as public_store
from services.message import html
from services.oncall import contacts
from services.oncall import lookup as oncall
from services.rooms import store as rooms_store
from services.storage.types import Executor
from services.tickets.briefs import TicketBrief, display_name, topic_url


def _priority(incident: Incident) -> int:
    return {"P0": outbox.PRIORITY_P0, "P1": outbox.PRIORITY_P1}.get(
        incident.priority, outbox.PRIORITY_P2
    )


async def view(
    db: Executor, ctx: EscalationContext, incident: Incident, ticket: TicketBrief
) -> IncidentView:
    rules = ctx.rules
    return IncidentView(
        ticket_id=incident.ticket_id,
        number=ticket.number,
        title=ticket.title,
        priority=incident.priority,
        level=incident.level,
        top_level=rules.top_level,
        level_role=rules.level(incident.level).role.value,
        opened_at=incident.opened_at,
        level_entered_at=incident.level_entered_at,
        acknowledged_by=await display_name(db, incident.acknowledged_by),
        acknowledged_at=incident.acknowledged_at,
        resolved_by=await display_name(db, incident.resolved_by),
        resolved_at=incident.resolved_at,
        topic_url=topic_url(ticket.support_chat_id, ticket.topic_id),
        level_deadline=level_deadline(rules, incident.clock()),
        lead=await display_name(db, await rooms_store.lead_of(db, incident.ticket_id)),
        room_url=rooms_store.link(await rooms_store.get(db, incident.ticket_id)),
        public_offer=incident.resolved_at is None
        and not await public_store.is_public(db, incident.ticket_id),
    )


async def _send(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    the_view: IncidentView,
    *,
    chat_id: int,
    recipient_id: int | None,
    language: str | None,
    variant: Variant,
    dedup: str,
    extra: dict[str, Any] | None = None,
    silent: bool = False,
) -> bool:
    extra = dict(extra or {})
    mentions = [Mention(m[0], m[1]) for m in extra.get("mentions", [])]
    if recipient_id is None:
        live = await store.live_card(db, incident.ticket_id, chat_id)
        if live is not None:
            return await _level_line(db, ctx, incident, the_view, live, mentions, dedup)
    language = await ctx.language_of(db, chat_id, language)
    with use_locale(language):
        rendered = render_incident(
            the_view, ctx.tz, variant=variant, told=extra.get("told", []), mentions=mentions
        )
    if recipient_id is not None:  # a page: kept as it is now, later changes added below
        extra.update(
            text=rendered.text,
            level=incident.level,
            acknowledged=incident.acknowledged_at is not None,
        )
    payload = rendered.payload()
    if silent:  # the person's quiet hours: a P2/P3 page arrives without a sound
        payload["disable_notification"] = True
    row_id = await outbox.send_text(
        db,
        chat_id,
        payload,
        dedup_key=f"inc:{incident.ticket_id}:{dedup}:{chat_id}",
        owner=f"incident:{incident.ticket_id}",
        priority=_priority(incident),
    )
    if row_id is None:
        return False
    await store.add_copy(
        db,
        incident.ticket_id,
        row_id,
        chat_id=chat_id,
        recipient_id=recipient_id,
        language=language,
        variant=variant,
        extra=extra,
    )
    return True


async def _level_line(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    the_view: IncidentView,
    live: store.Copy,
    mentions: list[Mention],
    dedup: str,
) -> bool:
    """The chat has this incident's card already (edited in place by refresh_copies): a short
    new line says what changed, replying to the card, mentioning who was paged."""
    with use_locale(await ctx.language_of(db, live.chat_id, live.language)):
        text = render_level_line(the_view, ctx.tz, mentions)
    row_id = await outbox.enqueue(
        db,
        outbox.OutboxMessage(
            chat_id=live.chat_id,
            kind="text",
            payload=html(text),
            ref_id=live.outbox_id,
            dedup_key=f"inc:{incident.ticket_id}:{dedup}:{live.chat_id}:line",
            owner=f"incident:{incident.ticket_id}",
            priority=_priority(incident),
        ),
    )
    return row_id is not None


async def page_people(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    ticket: TicketBrief,
    people: list[roster.StaffMember],
    *,
    variant: Variant,
    dedup: str,
    at: datetime | None = None,
) -> list[roster.StaffMember]:
    """A private message with buttons to each person; returns who was told. With `at`, each
    person's second channel (SMS / voice, `/oncall notify`) falls due unless they acknowledge."""
    the_view = await view(db, ctx, incident, ticket)
    told: list[roster.StaffMember] = []
    for person in people:
        if person.not_started and ctx.admin_chat_id is not None:
            sent = await page_in_admin_chat(
                db, ctx, incident, the_view, person, variant=variant, dedup=dedup
            )
        else:
            sent = await _send(
                db,
                ctx,
                incident,
                the_view,
                chat_id=person.user_id,
                recipient_id=person.user_id,
                language=person.language,
                variant=variant,
                dedup=dedup,
                silent=at is not None
                and await contacts.quiet_now(db, person.user_id, incident.priority, at, ctx.tz),
            )
        if sent:
            told.append(person)
        if sent and at is not None:
            await contacts.plan_followup(
                db, user_id=person.user_id, ticket_id=incident.ticket_id,
                priority=incident.priority, level=incident.level, at=at, tz=ctx.tz,
            )  # fmt: skip
    return told


async def page_in_admin_chat(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    the_view: IncidentView,
    person: roster.StaffMember,
    *,
    variant: Variant,
    dedup: str,
) -> bool:
    """Telegram will not let the bot message this person (they never pressed Start): their
    page goes to the admin chat, mentioning them, in the chat's language."""
    assert ctx.admin_chat_id is not None
    return await _send(
        db,
        ctx,
        incident,
        the_view,
        chat_id=ctx.admin_chat_id,
        recipient_id=person.user_id,
        language=None,
        variant=variant,
        dedup=f"{dedup}:{person.user_id}",
        extra={"mentions": [[person.user_id, person.display_name]]},
    )


async def page_level(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    ticket: TicketBrief,
    level: int,
    *,
    variant: Variant,
    dedup: str,
    at: datetime,
) -> list[roster.StaffMember]:
    """Page whoever is on call for the level's role at `at` (its schedule, else its slot)."""
    people = await oncall.for_level(db, ctx.rules, level, at, ctx.tz)
    return await page_people(db, ctx, incident, ticket, people, variant=variant, dedup=dedup, at=at)


async def notice_groups(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    ticket: TicketBrief,
    groups: list[str],
    *,
    variant: Variant,
    dedup: str,
    also_mention: list[roster.StaffMember] | None = None,
    at: datetime | None = None,
) -> dict[int, list[str]]:
    """One notice per chat the groups live in, naming the groups and mentioning their people
    (a group of on-call people: whoever the schedules say at `at`). Returns chat id -> groups
    told there."""
    per_chat: dict[int, list[str]] = {}
    people: dict[int, dict[int, str]] = {}
    for name in groups:
        rule = ctx.rules.groups.get(name)
        if rule is None:
            continue
        if rule.on_call_only and at is not None:
            members = await oncall.members_on_call(db, rule.roles, at, ctx.tz)
        else:
            members = await roster.members_with(db, rule.roles, on_call_only=rule.on_call_only)
        for ref in rule.chats:
            chat_id = ctx.chat(ref)
            if chat_id is None:
                continue
            per_chat.setdefault(chat_id, []).append(name)
            mentions = people.setdefault(chat_id, {})
            for m in [*members, *(also_mention or [])]:
                mentions.setdefault(m.user_id, m.display_name)
    if not per_chat and ctx.admin_chat_id is not None and (also_mention or variant == "escalated"):
        # the admin chat hears of every level change, even when nobody could be paged
        per_chat[ctx.admin_chat_id] = []
        people[ctx.admin_chat_id] = {m.user_id: m.display_name for m in also_mention or []}
    the_view = await view(db, ctx, incident, ticket)
    for chat_id, told in per_chat.items():
        extra = {"told": told, "mentions": [[uid, n] for uid, n in people[chat_id].items()]}
        await _send(
            db,
            ctx,
            incident,
            the_view,
            chat_id=chat_id,
            recipient_id=None,
            language=None,
            variant=variant,
            dedup=dedup,
            extra=extra,
        )
    return per_chat


async def notice_chat(
    db: Executor,
    ctx: EscalationContext,
    incident: Incident,
    ticket: TicketBrief,
    chat_id: int,
    *,
    dedup: str,
) -> bool:
    """The incident's notice in one more group chat (nobody mentioned); a private chat is
    not a notice's place (pages are). False: not sent (private, or there already)."""
    if chats.is_private(chat_id):
        return False
    the_view = await view(db, ctx, incident, ticket)
    return await _send(
        db, ctx, incident, the_view, chat_id=chat_id, recipient_id=None, language=None,
        variant="notice", dedup=dedup, extra={"told": [], "mentions": []},
    )  # fmt: skip


async def refresh_copies(
    db: Executor, ctx: EscalationContext, incident: Incident, ticket: TicketBrief
) -> int:
    """Edit every copy in place: group cards to the incident's current state, pages to what
    they said plus what happened since; returns how many.

    Rendered from the incident as saved, its row locked: two writers refreshing at once (an
    escalation, the room's link arriving) queue their edits in the order they commit, and the
    later one never shows an older state than the earlier."""
    incident = await store.get(db, incident.ticket_id, lock=True) or incident
    the_view = await view(db, ctx, incident, ticket)
    copies = await store.copies(db, incident.ticket_id)
    languages: dict[int, str | None] = {}  # one read per chat
    for copy in copies:
        if copy.chat_id not in languages:
            languages[copy.chat_id] = await ctx.language_of(db, copy.chat_id, copy.language)
        with use_locale(languages[copy.chat_id]):
            if copy.recipient_id is not None and "text" in copy.extra:
                rendered = render_page_history(
                    copy.extra["text"],
                    int(copy.extra.get("level", incident.level)),
                    bool(copy.extra.get("acknowledged")),
                    the_view,
                    ctx.tz,
                )
            else:
                rendered = render_incident(
                    the_view,
                    ctx.tz,
                    variant=copy.variant,  # type: ignore[arg-type]
                    told=copy.extra.get("told", []),
                    mentions=[Mention(m[0], m[1]) for m in copy.extra.get("mentions", [])],
                )
        payload = rendered.payload()
        if "reply_markup" not in payload:
            payload["reply_markup"] = {"inline_keyboard": []}
        await outbox.edit_message(
            db,
            copy.chat_id,
            copy.outbox_id,
            payload,
            owner=f"incident:{incident.ticket_id}",
            coalesce_key=f"inc-edit:{copy.outbox_id}",
        )
    return len(copies)
