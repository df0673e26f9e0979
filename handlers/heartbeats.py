"""`/heartbeats` (the list) and `/heartbeat <name>`, `/heartbeat add <name> <period|cron>
<grace>`, `/heartbeat remove|pause|resume <name>`. Parse, call services.heartbeats, answer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.routes import Routes
from services.alerts.config import AlertsRules
from services.clock import Clock
from services.heartbeats import actions, store
from services.heartbeats.actions import BadHeartbeat, UnknownHeartbeat
from services.heartbeats.config import HeartbeatsRules, PingDoor
from services.heartbeats.render import render_list, render_one, schedule_of
from services.staff import Action
from services.text import echo, esc
from services.users import Person

router = Routes(__name__)


def _usage() -> str:
    return esc(
        _(
            "Usage: /heartbeat add <name> <period> <grace> (for example "
            "/heartbeat add nightly-backup 1d 1h, or with a cron schedule: /heartbeat add "
            'nightly-backup "0 2 * * *" 1h), /heartbeat remove|pause|resume <name>, '
            "/heartbeat <name>, /heartbeats."
        )
    )


def _bad(exc: BadHeartbeat) -> str:
    if exc.reason == BadHeartbeat.NAME:
        return _(
            "{name} cannot be a heartbeat's name: use lower-case letters, digits, '.', '_' "
            "and '-' (at most 63)."
        ).format(name=echo(exc.detail, 80))
    if exc.reason in (BadHeartbeat.PERIOD, BadHeartbeat.GRACE):
        return _(
            "{value} is not a period I can use: give one between 1m and 365d, like 30m, 1h or 1d."
        ).format(value=echo(exc.detail, 80))
    if exc.reason == BadHeartbeat.SCHEDULE:
        return _("{value} is not a five-field cron expression.").format(value=echo(exc.detail, 120))
    if exc.reason == BadHeartbeat.TAKEN:
        return _("There is already a heartbeat called {name}.").format(name=echo(exc.detail))
    return _usage()


@router.message(Command("heartbeats"))
async def cmd_heartbeats(
    message: Message, person: Person | None, pool: asyncpg.Pool, ping_door: PingDoor, clock: Clock
) -> None:
    items = await actions.listing(pool, person, chat_id=message.chat.id)
    await message.answer(render_list(items, clock.now(), ZoneInfo(ping_door.timezone)))


@router.message(Command("heartbeat"))
async def cmd_heartbeat(
    message: Message,
    command: CommandObject,
    person: Person | None,
    pool: asyncpg.Pool,
    ping_door: PingDoor,
    heartbeats_rules: HeartbeatsRules,
    alerts_rules: AlertsRules,
    clock: Clock,
) -> None:
    words = (command.args or "").split(maxsplit=1)
    verb = words[0].lower() if words else ""
    rest = words[1] if len(words) > 1 else ""
    chat_id = message.chat.id
    now = clock.now()
    tz = ZoneInfo(ping_door.timezone)
    try:
        if verb == "add":
            config = heartbeats_rules
            # the permission before the arguments: a refusal says nothing about them
            await actions.check(
                pool, person, Action.MANAGE_HEARTBEATS, target="add", chat_id=chat_id
            )
            definition = actions.parse_add(rest)
            hb = await actions.add(
                pool,
                person,
                definition,
                tz=ping_door.timezone,
                severity=config.severity,
                chat_id=chat_id,
                now=now,
            )
            url = ping_door.url(hb.ping_key)
            lines = [
                _(
                    "Heartbeat {name} added: {schedule}. Have the job ping these URLs "
                    "(keep them secret):"
                ).format(name=f"<b>{esc(hb.name)}</b>", schedule=schedule_of(hb)),
                f"{esc(_('success'))}: <code>{esc(url)}</code>",
                f"{esc(_('start'))}: <code>{esc(url)}/start</code>",
                f"{esc(_('fail'))}: <code>{esc(url)}/fail</code>, <code>{esc(url)}/1</code>",
            ]
            await message.answer("\n".join(lines))
            return
        if verb in ("remove", "pause", "resume"):
            await actions.check(
                pool, person, Action.MANAGE_HEARTBEATS, target=verb, chat_id=chat_id
            )
            name = rest.strip()
            if not name:
                await message.answer(_usage())
                return
            hb = await actions.change(
                pool,
                person,
                verb,
                name,
                alerts_config=alerts_rules,
                chat_id=chat_id,
                now=now,
            )
            done = {
                "remove": _("Heartbeat {name} removed; its ping URL now answers 404."),
                "pause": _("Heartbeat {name} paused: it is not watched until its next ping."),
                "resume": _("Heartbeat {name} resumed: it is watched again from its next ping."),
            }[verb]
            await message.answer(done.format(name=f"<b>{esc(hb.name)}</b>"))
            return
        if not verb:
            items = await actions.listing(pool, person, chat_id=chat_id)
            await message.answer(render_list(items, now, tz))
            return
        await actions.check(
            pool, person, Action.VIEW_HEARTBEATS, target="heartbeat", chat_id=chat_id
        )
        found = await store.by_name(pool, verb)
        if found is None:
            raise UnknownHeartbeat(verb)
        pings = await store.recent_pings(pool, found.id)
        await message.answer(render_one(found, pings, ping_door.url(found.ping_key), now, tz))
    except BadHeartbeat as exc:
        await message.answer(_bad(exc))
    except UnknownHeartbeat as exc:
        await message.answer(
            _("There is no heartbeat called {name} (see /heartbeats).").format(name=echo(exc.name))
        )
