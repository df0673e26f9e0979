"""Alert groups to Telegram, like Alertmanager: wait `group_wait` before the first message, then
look again every `group_interval`; edit the message in place when alerts join or resolve,
send it again after `repeat_interval` while it fires unacknowledged, and end with a ✅ edit.

A flapping alert that fires and resolves between two looks changes nothing people see.
During a maintenance window nothing is pushed: firing alerts are recorded as muted, and the
window's end posts a summary (then the groups are looked at again).

This module is Alertmanager's dispatcher: it decides when a group is pushed and what happens
to it (sent, edited, joined to a storm, repeated, escalated, muted); outbound.py says who reads a
group's message and what it shows, and queues it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from loguru import logger

from services.alerts import channels, model, silences, store, storm
from services.alerts.config import AlertsRules
from services.alerts.incidents import OpenIncident
from services.alerts.outbound import (
    STORM_PRIORITY,
    Audience,
    ChatLanguages,
    destinations,
    edit,
    group_view,
    in_chat_language,
    incident_request,
    post,
    post_maintenance_summary,
)
from services.alerts.render import Rendered, render_group, render_plain
from services.clock import Clock
from services.i18n import use_locale
from services.storage.db import transaction
from services.storage.types import Executor


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
        async with transaction(pool) as conn:
            locked = await store.lock_open_group(conn, group_id)
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
    if await storm.any_dirty(pool):
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
    async with transaction(pool) as conn:
        current = await storm.current(conn, audience.admin_chat_id, now)
        if current is not None or not due:
            return current
        waiting = await storm.needing_first_message(conn, due)
        if waiting <= audience.budget.carried(config.grouping):
            return None
        return await storm.begin(conn, audience.admin_chat_id, now)


async def _flush_group(
    conn: Executor,
    group: model.GroupRow,
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
    await store.update_group(conn, group.id, updates)
    return secondary


def _repeat_due(group: model.GroupRow, config: AlertsRules, now: datetime) -> bool:
    last = group.last_notified_at
    every = group.repeat_interval or config.grouping.repeat_interval
    return last is not None and now - last >= every


async def close_ended_windows(pool: asyncpg.Pool, clock: Clock, audience: Audience) -> list[int]:
    """Post the summary of every maintenance window that ended; look at open groups again."""
    done: list[int] = []
    async with transaction(pool) as conn:
        now = clock.now()
        ended = await silences.ended_without_summary(conn, now)
        if ended:
            audience = await in_chat_language(conn, audience)
        for window in ended:
            muted = await silences.muted_in(conn, window.id)
            await post_maintenance_summary(conn, audience, window, muted)
            await silences.mark_summary_sent(conn, window.id, now)
            done.append(window.id)
        if done:
            await store.flush_open_groups(conn, now)
    if done:
        logger.info("maintenance windows ended: {}", done)
    return done
