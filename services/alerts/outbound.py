"""The one module that queues alert messages: a group's, who reads them and what they show,
and a maintenance window's summary.

`Audience` (the admin chat, its language and time zone, the chats a routing tree may name) and
`ChatLanguages` say who reads; `destinations` says which chats a group goes to; `group_view`
reads what a group's message shows (silenced and inhibited alerts, its acknowledgement, its
incident); `post` and `edit` queue it through the outbox, `refresh` redraws it after a button.
When a group is pushed (group wait, interval, repeat, storms, maintenance) is dispatch.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from services import chats, outbox
from services.alerts import model, receivers, silences, store, storm
from services.alerts.config import AlertsRules
from services.alerts.incidents import IncidentRequest
from services.alerts.render import GroupView, Rendered, render_group, render_maintenance_summary
from services.alerts.render_storm import back_row
from services.i18n import use_locale
from services.localized import send_in
from services.storage.types import Executor
from services.users import Person

# Below every page and incident notice (services/outbox.py): a storm never holds back a P0.
PRIORITY = {"critical": outbox.PRIORITY_ALERT_CRITICAL, "warning": outbox.PRIORITY_ALERT_WARNING}
STORM_PRIORITY = outbox.PRIORITY_ALERT_CRITICAL  # one message standing for many groups


@dataclass(frozen=True)
class Audience:
    """Where and how group messages go: the admin chat, its language and time zone.

    `language` is DEFAULT_LOCALE until `in_chat_language` reads the admin chat's own."""

    admin_chat_id: int | None
    language: str
    tz: tzinfo
    # the chats a routing tree's receivers may name besides the admin chat
    support_chat_id: int | None = None
    security_chat_id: int | None = None
    # the admin chat's send budget: more first messages due than it carries make a storm
    budget: storm.Budget = field(default_factory=storm.Budget)


async def in_chat_language(db: Executor, audience: Audience) -> Audience:
    """The audience speaking the admin chat's language (one read per batch of messages)."""
    language = await chats.chat_language(db, audience.admin_chat_id, audience.language)
    return replace(audience, language=language)


class ChatLanguages:
    """Each chat's one language, read once per flush: an alert group's message is rendered for
    every chat it goes to (the admin chat and a rule's own `telegram` channels) in its language."""

    def __init__(self, audience: Audience) -> None:
        self.default = audience.language
        self.known: dict[int, str] = {}
        if audience.admin_chat_id is not None:
            self.known[audience.admin_chat_id] = audience.language

    async def of(self, db: Executor, chat_id: int) -> str:
        if chat_id not in self.known:
            self.known[chat_id] = await chats.chat_language(db, chat_id, self.default)
        return self.known[chat_id]


Render = Callable[[], Rendered]


def chats_of(group: model.GroupRow, config: AlertsRules, audience: Audience) -> list[int]:
    chats = [] if audience.admin_chat_id is None else [audience.admin_chat_id]
    for name in group.channels:
        chat = config.telegram_chats.get(name)
        if chat is not None and chat not in chats:
            chats.append(chat)
    return chats


async def destinations(
    db: Executor, group: model.GroupRow, config: AlertsRules, audience: Audience
) -> list[int]:
    """The chats a group's message goes to: its receivers' when the routing tree opened it,
    else the admin chat and its rule's `telegram` channels."""
    if group.receivers is None:
        return chats_of(group, config, audience)
    known = receivers.Chats(
        audience.admin_chat_id, audience.support_chat_id, audience.security_chat_id
    )
    return await receivers.chats(db, group.receivers, config, known)


async def group_view(
    db: Executor, group: model.GroupRow, now: datetime, *, repeat: bool = False
) -> GroupView:
    alerts = await store.alerts_of_group(db, group.id)
    active = await silences.active_silences(db, now)
    muted = frozenset(
        a.fingerprint
        for a in alerts
        if a.state == "firing" and silences.silenced_by(active, a.labels, now) is not None
    )
    sources = await store.alerts_by_fingerprint(
        db, [a.inhibited_by for a in alerts if a.state == "firing" and a.inhibited_by]
    )
    inhibited = {
        a.fingerprint: sources[a.inhibited_by].alertname
        for a in alerts
        if a.state == "firing" and a.inhibited_by in sources
    }
    own = next((s for s in active if s.id == group.silence_id), None)
    return GroupView(
        id=group.id,
        # a group whose route's group_by leaves alertname out names what it holds
        alertname=group.alertname or ", ".join(sorted({a.alertname for a in alerts}))[:200],
        severity=group.severity,
        alerts=alerts,
        group_labels=group.labels,
        acknowledged_name=group.acknowledged_name,
        acknowledged_at=group.acknowledged_at,
        incident_id=group.incident_id,
        silenced_until=own.ends_at if own else None,
        silenced_name=own.created_name if own else None,
        silenced_fingerprints=muted | frozenset(inhibited),
        repeat=repeat,
        inhibited=inhibited,
    )


async def post(
    db: Executor,
    group: model.GroupRow,
    render: Render,
    chats: list[int],
    now: datetime,
    languages: ChatLanguages,
) -> None:
    for chat_id in chats:
        row_id = await send_in(
            db,
            chat_id,
            await languages.of(db, chat_id),
            render,
            owner=f"alert_group:{group.id}",
            priority=PRIORITY.get(group.severity, outbox.PRIORITY_ALERT_INFO),
        )
        assert row_id is not None
        await store.add_message(db, group.id, chat_id, row_id, now)


async def edit(
    db: Executor, group: model.GroupRow, render: Render, languages: ChatLanguages
) -> int:
    """Edit the group's newest message in every chat; return how many edits were queued."""
    latest = store.latest_messages(group)
    for chat_id, outbox_id in sorted(latest.items()):
        with use_locale(await languages.of(db, chat_id)):
            rendered = render()
        await outbox.edit_message(
            db,
            chat_id,
            outbox_id,
            rendered.payload(),
            owner=f"alert_group:{group.id}",
        )
    return len(latest)


async def refresh(db: Executor, group_id: int, now: datetime, audience: Audience) -> None:
    """Show a group's current state on its messages (after a button press)."""
    group = await store.get_group(db, group_id)
    if group is None:
        return
    audience = await in_chat_language(db, audience)
    if group.storm_id is not None:
        current = await storm.get(db, group.storm_id)
        if current is not None:
            await storm.render_one(db, current, audience.language, audience.tz, STORM_PRIORITY, now)
    if not group.messages:
        return
    view = await group_view(db, group, now)
    await edit(db, group, lambda: render_group(view, audience.tz), ChatLanguages(audience))
    shown = sorted(
        a.fingerprint for a in view.firing if a.fingerprint not in view.silenced_fingerprints
    )
    await store.update_group(db, group_id, {"notified_firing": shown})
    if view.resolved and group.status == "open":
        await store.update_group(
            db, group_id, {"status": "resolved", "resolved_at": now, "next_flush_at": None}
        )


def incident_request(
    group: model.GroupRow, view: GroupView, actor_id: int | None, now: datetime
) -> IncidentRequest:
    summary = next(
        (a.annotations.get("summary", "") for a in view.alerts if a.annotations.get("summary")), ""
    )
    return IncidentRequest(
        group_id=group.id,
        title=view.alertname,
        severity=group.severity,
        summary=summary,
        labels=dict(group.labels),
        opened_by=actor_id,
        opened_at=now,
    )


async def post_maintenance_summary(
    db: Executor,
    audience: Audience,
    window: silences.MaintenanceWindow,
    muted: list[silences.MutedAlert],
) -> None:
    """What fired while the maintenance window muted it, to the admin chat once it ended."""
    if audience.admin_chat_id is None:
        return
    await send_in(
        db,
        audience.admin_chat_id,
        audience.language,
        lambda: render_maintenance_summary(
            window.reason, window.starts_at, window.end, muted, audience.tz
        ),
        owner=f"maintenance:{window.id}",
        dedup_key=f"maintenance:{window.id}:summary",
        priority=outbox.PRIORITY_P1,
    )


async def details_privately(
    db: Executor, person: Person, view: GroupView, audience: Audience, group_id: int
) -> None:
    """A group's full message to the person who asked for it from a storm, in their language."""
    await send_in(
        db,
        person.id,
        person.language or audience.language,
        lambda: render_group(view, audience.tz),
        owner=f"alert_details:{group_id}",
        priority=outbox.PRIORITY_INTERACTIVE,
    )


async def details_in_storm(
    db: Executor, current: storm.StormRow, view: GroupView, audience: Audience
) -> None:
    """A group's full message in place of the storm message, with a button back to the storm."""
    assert current.outbox_id is not None
    chat = await in_chat_language(db, audience)
    with use_locale(chat.language):
        rendered = render_group(view, audience.tz)
        keyboard = [*rendered.reply_markup["inline_keyboard"], back_row(current.id)]
    payload = {**rendered.payload(), "reply_markup": {"inline_keyboard": keyboard}}
    await outbox.edit_message(
        db,
        current.chat_id,
        current.outbox_id,
        payload,
        owner=storm.owner(current.id),
    )


async def redraw_storm(db: Executor, storm_id: int, audience: Audience, now: datetime) -> None:
    """The storm message drawn again as the storm stands, in the admin chat's language."""
    current = await storm.get(db, storm_id)
    assert current is not None
    chat = await in_chat_language(db, audience)
    await storm.render_one(db, current, chat.language, audience.tz, STORM_PRIORITY, now)
