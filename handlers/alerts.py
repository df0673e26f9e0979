"""Alert buttons (Acknowledge, Silence 1h/4h/24h, Escalate, Resolve) and the commands
/alerts, /silence, /silences, /unsilence, /maintenance. Parse, call services.alerts, answer."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command
from handlers.buttons import Press
from handlers.refusals import Answers, Usage
from handlers.routes import Routes
from services import staff
from services.alerts import actions, pipeline, silences
from services.alerts.durations import BadDuration, parse_duration
from services.alerts.escalation_link import incident_opener
from services.alerts.incidents import EscalationUnavailable
from services.alerts.matchers import BadSilence, parse_silence_args
from services.alerts.outbound import Audience
from services.alerts.render import AlertAction, when
from services.alerts.render_lists import render_overview, render_silences, render_windows
from services.clock import Clock
from services.escalation.context import EscalationContext
from services.text import echo, esc
from services.tickets.model import ticket_number
from services.users import Person

router = Routes(__name__)


def answers_late_presses(router: Routes) -> None:
    """The buttons of an alert (or a storm of them) pressed after the alert is gone, or after
    someone else did what they offer: answered for every button of the router."""
    gone = Answers(actions.GroupNotFound, lambda _error: _("This alert no longer exists."))
    done = Answers(
        actions.AlreadyDone,
        lambda done: _("Already done by {name}.").format(name=done.who or "?"),
        alert=False,
    )
    router.callback_query.middleware(gone)
    router.callback_query.middleware(done)


answers_late_presses(router)


def _chat(event: Message | CallbackQuery) -> int | None:
    message = event.message if isinstance(event, CallbackQuery) else event
    return message.chat.id if message is not None else None


@router.callback_query(Press(AlertAction))
async def on_button(
    query: CallbackQuery,
    callback_data: AlertAction,
    person: Person | None,
    pool: asyncpg.Pool,
    clock: Clock,
    audience: Audience,
    escalation_context: EscalationContext,
) -> None:
    chat_id = _chat(query)
    # Escalate on an alert opens an incident at level 1 of the escalation tree.
    open_incident = (
        incident_opener(clock, escalation_context, person, chat_id)
        if callback_data.a == "esc" and person
        else None
    )
    try:
        result = await actions.press(
            pool,
            person,
            callback_data.g,
            callback_data.a,
            chat_id=chat_id,
            now=clock.now(),
            audience=audience,
            open_incident=open_incident,
        )
    except EscalationUnavailable:
        await query.answer(
            _("Escalation is not available right now. Please call the on-call engineer."),
            show_alert=True,
        )
        return
    tz = audience.tz
    if result.silence is not None:
        text = _("Silenced until {time}.").format(time=when(result.silence.ends_at, tz))
    elif result.incident_id is not None:
        # The incident is a ticket: name it QC-000123 as /timeline, /escalate and its notice do.
        text = _("Incident {number} opened at level 1.").format(
            number=ticket_number(result.incident_id)
        )
    elif result.action == "ack":
        text = _("Acknowledged.")
    else:
        text = _("Resolved.")
    await query.answer(text)


async def _require(asked: Asked[ZoneInfo], name: str, *, view: bool = False) -> None:
    """The permission table's word on /<name> as typed (`view`: on seeing the alerts), before
    its arguments are read (a refusal is audited here and answered by handlers.refusals)."""
    needed = actions.Action.VIEW
    if not view:  # alerts.<action>
        table = staff.COMMANDS[name].action_for(asked.args)
        needed = actions.Action(table.value.removeprefix("alerts."))
    await actions.check(
        asked.pool, asked.person, needed, target=name, chat_id=asked.chat_id,
        now=asked.clock.now(),
    )  # fmt: skip


@command(router, "alerts", "tz", table=False)
async def cmd_alerts(message: Message, asked: Asked[ZoneInfo]) -> None:
    await _require(asked, "alerts", view=True)
    view = await pipeline.overview(asked.pool, asked.clock.now())
    await message.answer(render_overview(view, asked.ctx))


def _silence_refusal(exc: BadSilence) -> str:
    """Why the /silence arguments cannot be used, as HTML."""
    if exc.reason == BadSilence.BAD_MATCHER:
        return _("I cannot read the matcher {matcher}.").format(matcher=echo(exc.detail, 200))
    if exc.reason == BadSilence.BAD_PATTERN:
        return _(
            "The pattern {pattern} cannot be used: {reason}. Silences take the regular "
            "expressions Alertmanager takes (RE2): no lookaround, no backreferences."
        ).format(pattern=echo(exc.detail, 200), reason=echo(exc.why, 200))
    if exc.reason == BadSilence.NO_DURATION:
        return esc(_("After the matchers, give a duration like 30m, 2h or 1d."))
    return esc(
        _(
            "Usage: /silence <matchers> <duration> [comment], for example "
            '/silence alertname=CpuHigh instance=~"web-.*" 2h deploy'
        )
    )


@command(router, "silence", "tz", table=False)
async def cmd_silence(message: Message, asked: Asked[ZoneInfo]) -> None:
    await _require(asked, "silence")
    person, pool, clock, tz = asked.person, asked.pool, asked.clock, asked.ctx
    try:
        request = parse_silence_args(asked.args)
    except BadSilence as exc:
        await message.answer(_silence_refusal(exc))
        return
    silence = await actions.add_silence(
        pool,
        person,
        request.matchers,
        request.duration,
        request.comment,
        chat_id=_chat(message),
        now=clock.now(),
    )
    await message.answer(
        _("Silence #{id} is active until {time}.").format(
            id=silence.id, time=when(silence.ends_at, tz)
        )
    )


@command(router, "silences", "tz", table=False)
async def cmd_silences(message: Message, asked: Asked[ZoneInfo]) -> None:
    await _require(asked, "silences", view=True)
    now = asked.clock.now()
    items = await silences.active_silences(asked.pool, now)
    await message.answer(render_silences(items, asked.ctx, now))


@command(router, "unsilence", "tz", table=False)
async def cmd_unsilence(message: Message, asked: Asked[ZoneInfo]) -> None:
    await _require(asked, "unsilence")
    person, pool, clock = asked.person, asked.pool, asked.clock
    raw = asked.args.strip().lstrip("#")
    if not raw.isdigit():
        raise Usage(_("Usage: /unsilence <id> (see /silences)."))
    done = await actions.remove_silence(
        pool, person, int(raw), chat_id=_chat(message), now=clock.now()
    )
    if done:
        await message.answer(_("Silence #{id} has ended.").format(id=int(raw)))
    else:
        await message.answer(_("There is no active silence #{id}.").format(id=int(raw)))


@command(router, "maintenance", "tz", table=False)
async def cmd_maintenance(message: Message, asked: Asked[ZoneInfo]) -> None:
    await _require(asked, "maintenance")
    person, pool, clock, tz = asked.person, asked.pool, asked.clock, asked.ctx
    words = asked.args.split(maxsplit=2)
    now = clock.now()
    chat_id = _chat(message)
    try:
        if not words:
            await _require(asked, "maintenance", view=True)
            items = await silences.current_and_planned(pool, now)
            await message.answer(render_windows(items, tz, now))
            return
        if words[0] == "stop":
            stopped = await actions.stop_maintenance(pool, person, chat_id=chat_id, now=now)
            await message.answer(
                _("Maintenance stopped; the summary follows.")
                if stopped
                else _("No maintenance window is running.")
            )
            return
        if words[0] == "start" and len(words) >= 2:
            duration = parse_duration(words[1])
            reason = words[2] if len(words) > 2 else ""
            window = await actions.start_maintenance(
                pool, person, duration, reason, chat_id=chat_id, now=now
            )
            await message.answer(
                _("Maintenance until {time}: alerts are recorded, not pushed.").format(
                    time=when(window.end, tz)
                )
            )
            return
    except BadDuration:
        pass
    raise Usage(_("Usage: /maintenance start <duration> [reason], /maintenance stop, /maintenance"))
