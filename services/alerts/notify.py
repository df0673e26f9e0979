"""Alert groups to Telegram, like Alertmanager: wait `group_wait` before the first message, then
look again every `group_interval`; edit the message in place when alerts join or resolve,
send it again after `repeat_interval` while it fires unacknowledged, and end with a ✅ edit.

A flapping alert that fires and resolves between two looks changes nothing people see.
During a maintenance window nothing is pushed: firing alerts are recorded as muted, and the
window's end posts a summary (then the groups are looked at again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

import asyncpg
from loguru import logger

from services import chats, outbox
from services.alerts import channels, receivers, silences, store, storm
from services.alerts.config import AlertsRules
from services.alerts.incidents import IncidentRequest, OpenIncident
from services.alerts.render import (
    GroupView,
    Rendered,
    render_group,
    render_maintenance_summary,
    render_plain,
)
from services.clock import Clock
from services.i18n import use_locale
from services.storage.types import Executor

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


@dataclass
class FlushReport:
    sent: list[int] = field(default_factory=list)  # group ids that got a new message
    edited: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    muted: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)
    stormed: list[int] = field(default_factory=list)  # shown in the storm message instead
    storms: list[int] = field(default_factory=list)  # storm messages queued or edited
    incidents: list[int] = field(default_factory=list)
    secondary: list[channels.ChannelResult] = field(default_factory=list)


def chats_of(group: store.GroupRow, config: AlertsRules, audience: Audience) -> list[int]:
    chats = [] if audience.admin_chat_id is None else [audience.admin_chat_id]
    for name in group.channels:
        chat = config.telegram_chats.get(name)
        if chat is not None and chat not in chats:
            chats.append(chat)
    return chats


async def destinations(
    db: Executor, group: store.GroupRow, config: AlertsRules, audience: Audience
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
    db: Executor, group: store.GroupRow, now: datetime, *, repeat: bool = False
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
    group: store.GroupRow,
    render: Render,
    chats: list[int],
    now: datetime,
    languages: ChatLanguages,
) -> None:
    for chat_id in chats:
        with use_locale(await languages.of(db, chat_id)):
            rendered = render()
        row_id = await outbox.enqueue(
            db,
            outbox.OutboxMessage(
                chat_id=chat_id,
                kind="text",
                payload=rendered.payload(),
                owner=f"alert_group:{group.id}",
                priority=PRIORITY.get(group.severity, outbox.PRIORITY_ALERT_INFO),
            ),
        )
        assert row_id is not None
        await store.add_message(db, group.id, chat_id, row_id, now)


async def edit(
    db: Executor, group: store.GroupRow, render: Render, languages: ChatLanguages
) -> int:
    """Edit the group's newest message in every chat; return how many edits were queued."""
    latest = store.latest_messages(group)
    for chat_id, outbox_id in sorted(latest.items()):
        with use_locale(await languages.of(db, chat_id)):
            rendered = render()
        await outbox.enqueue(
            db,
            outbox.OutboxMessage(
                chat_id=chat_id,
                kind="edit",
                payload=rendered.payload(),
                ref_id=outbox_id,
                owner=f"alert_group:{group.id}",
                priority=outbox.PRIORITY_INTERACTIVE,
            ),
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
    await db.execute("UPDATE alert_groups SET notified_firing = $2 WHERE id = $1", group_id, shown)
    if view.resolved and group.status == "open":
        await db.execute(
            "UPDATE alert_groups SET status = 'resolved', resolved_at = $2, next_flush_at = NULL"
            " WHERE id = $1",
            group_id,
            now,
        )


async def flush_due(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    audience: Audience,
    *,
    open_incident: OpenIncident | None = None,
) -> FlushReport:
    report = FlushReport()
    outgoing: list[tuple[list[str], str, str]] = []
    due = await store.due_group_ids(pool, clock.now(), config.grouping)
    if due:
        audience = await in_chat_language(pool, audience)
    languages = ChatLanguages(audience)
    storm_id = await _storm_for(pool, due, config, audience, clock.now())
    for group_id in due:
        async with pool.acquire() as conn, conn.transaction():
            locked = await conn.fetchval(
                "SELECT id FROM alert_groups WHERE id = $1 AND status = 'open' "
                "FOR UPDATE SKIP LOCKED",
                group_id,
            )
            group = await store.get_group(conn, group_id) if locked else None
            if group is None:
                continue
            with use_locale(audience.language):
                message = await _flush_group(
                    conn,
                    group,
                    config,
                    clock.now(),
                    audience,
                    languages,
                    report,
                    open_incident,
                    storm_id,
                )
            if message is not None:
                outgoing.append(message)
    if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM alert_storms WHERE dirty)"):
        audience = await in_chat_language(pool, audience)
        report.storms = await storm.render_dirty(
            pool, audience.language, audience.tz, STORM_PRIORITY, clock.now()
        )
    for wanted, subject, body in outgoing:  # after commit: Telegram first, never blocked
        report.secondary.extend(await channels.deliver(config.channels, wanted, subject, body))
    return report


async def _storm_for(
    pool: asyncpg.Pool, due: list[int], config: AlertsRules, audience: Audience, now: datetime
) -> int | None:
    """The admin chat's storm new groups join: the current one, or a new one when more groups
    need a first message than the chat's budget carries within the group wait."""
    if audience.admin_chat_id is None:
        return None
    async with pool.acquire() as conn, conn.transaction():
        current = await storm.current(conn, audience.admin_chat_id, now)
        if current is not None or not due:
            return current
        waiting = await storm.needing_first_message(conn, due)
        if waiting <= audience.budget.carried(config.grouping):
            return None
        return await storm.begin(conn, audience.admin_chat_id, now)


async def _flush_group(
    conn: Executor,
    group: store.GroupRow,
    config: AlertsRules,
    now: datetime,
    audience: Audience,
    languages: ChatLanguages,
    report: FlushReport,
    open_incident: OpenIncident | None,
    storm_id: int | None = None,
) -> tuple[list[str], str, str] | None:
    view = await group_view(conn, group, now)
    firing = view.firing
    visible = sorted(
        a.fingerprint for a in firing if a.fingerprint not in view.silenced_fingerprints
    )
    window = await silences.active_window(conn, now)
    chats = await destinations(conn, group, config, audience)
    secondary: tuple[list[str], str, str] | None = None
    updates: dict[str, Any] = {"last_flushed_at": now, "next_flush_at": None}
    if window is not None and firing:
        await silences.record_muted(conn, window.id, [a.id for a in firing], now)
        report.muted.append(group.id)
    elif not firing:
        if group.storm_id is not None:
            await storm.touch(conn, group.storm_id)
        if group.messages:
            await edit(conn, group, lambda: render_group(view, audience.tz), languages)
        updates.update(status="resolved", resolved_at=now, notified_firing=[])
        report.resolved.append(group.id)
        if group.notified_firing:
            secondary = (group.channels, *render_plain(view, audience.tz))
    elif visible != sorted(group.notified_firing):

        def rendered() -> Rendered:
            return render_group(view, audience.tz)

        admin = audience.admin_chat_id
        if group.storm_id is not None:
            await storm.touch(conn, group.storm_id)
            if group.messages:  # its messages in other chats than the admin chat's
                await edit(conn, group, rendered, languages)
            report.stormed.append(group.id)
        elif group.messages:
            await edit(conn, group, rendered, languages)
            report.edited.append(group.id)
        elif storm_id is not None and admin in chats:
            await storm.join(conn, storm_id, group.id, now)
            others = [c for c in chats if c != admin]
            if others:
                await post(conn, group, rendered, others, now, languages)
            report.stormed.append(group.id)
        else:
            await post(conn, group, rendered, chats, now, languages)
            report.sent.append(group.id)
        if set(visible) - set(group.notified_firing):
            updates["last_notified_at"] = now
            secondary = (group.channels, *render_plain(view, audience.tz))
        updates["notified_firing"] = visible
    elif (
        visible
        and group.acknowledged_at is None
        and (chats or group.channels)  # a null receiver: nobody to remind, no incident
        and _repeat_due(group, config, now)
    ):
        repeat = await group_view(conn, group, now, repeat=True)
        if group.storm_id is not None:  # the storm message reminds the admin chat
            await storm.touch(conn, group.storm_id)
            chats = [c for c in chats if c != audience.admin_chat_id]
        await post(conn, group, lambda: render_group(repeat, audience.tz), chats, now, languages)
        updates["last_notified_at"] = now
        report.repeated.append(group.id)
        secondary = (group.channels, *render_plain(repeat, audience.tz))
        if (
            group.severity in config.p0_severities
            and group.incident_id is None
            and open_incident is not None
        ):
            incident_id = await open_incident(conn, incident_request(group, view, None, now))
            updates.update(incident_id=incident_id, escalated_at=now)
            report.incidents.append(incident_id)
    await _update_group(conn, group.id, updates)
    return secondary


def _repeat_due(group: store.GroupRow, config: AlertsRules, now: datetime) -> bool:
    last = group.last_notified_at
    every = group.repeat_interval or config.grouping.repeat_interval
    return last is not None and now - last >= every


def incident_request(
    group: store.GroupRow, view: GroupView, actor_id: int | None, now: datetime
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


_UPDATABLE = frozenset(
    {
        "last_flushed_at",
        "next_flush_at",
        "status",
        "resolved_at",
        "notified_firing",
        "last_notified_at",
        "incident_id",
        "escalated_at",
    }
)


async def _update_group(conn: Executor, group_id: int, updates: dict[str, Any]) -> None:
    names = sorted(updates)
    assert set(names) <= _UPDATABLE
    assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(names))
    await conn.execute(
        f"UPDATE alert_groups SET {assignments} WHERE id = $1",
        group_id,
        *(updates[n] for n in names),
    )


async def close_ended_windows(pool: asyncpg.Pool, clock: Clock, audience: Audience) -> list[int]:
    """Post the summary of every maintenance window that ended; look at open groups again."""
    done: list[int] = []
    async with pool.acquire() as conn, conn.transaction():
        now = clock.now()
        ended = await silences.ended_without_summary(conn, now)
        if ended:
            audience = await in_chat_language(conn, audience)
        for window in ended:
            muted = await silences.muted_in(conn, window.id)
            if audience.admin_chat_id is not None:
                with use_locale(audience.language):
                    text = render_maintenance_summary(
                        window.reason, window.starts_at, window.end, muted, audience.tz
                    )
                await outbox.enqueue(
                    conn,
                    outbox.OutboxMessage(
                        chat_id=audience.admin_chat_id,
                        kind="text",
                        payload={"text": text, "parse_mode": "HTML"},
                        owner=f"maintenance:{window.id}",
                        dedup_key=f"maintenance:{window.id}:summary",
                        priority=outbox.PRIORITY_P1,
                    ),
                )
            await silences.mark_summary_sent(conn, window.id, now)
            done.append(window.id)
        if done:
            await conn.execute(
                "UPDATE alert_groups SET next_flush_at = $1 WHERE status = 'open'", now
            )
    if done:
        logger.info("maintenance windows ended: {}", done)
    return done
