"""Pure renderers: the checklist with its buttons, the owners' reminder, the quarterly report.
Callers choose the language (`with use_locale(...)`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, button
from services.escalation.render import role_label
from services.i18n import gettext as _
from services.message import Rendered, key
from services.quarterly.config import last_day
from services.quarterly.store import QuarterTask
from services.text import esc, shorten


@button("qt")
@dataclass(frozen=True)
class QuarterAction(Button):
    act: Literal["tick", "undo"]
    task: int


def callback_data(act: Literal["tick", "undo"], task_id: int) -> str:
    return QuarterAction(act, task_id).pack()


def quarter_name(quarter: str) -> str:
    return f"{quarter[-2:]} {quarter[:4]}"


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _evidence(task: QuarterTask) -> str:
    parts: list[str] = []
    if task.evidence_note:
        parts.append("“" + esc(shorten(task.evidence_note, 300)) + "”")
    if task.evidence_file:
        parts.append("📎 " + esc(task.evidence_name or task.evidence_kind or _("file")))
    return "; ".join(parts)


def _line(task: QuarterTask, tz: ZoneInfo) -> str:
    title = esc(_(task.title))
    owner = esc(role_label(task.owner_role))
    if task.done_at is None:
        return "⬜ " + _("{title} ({owner})").format(title=title, owner=owner)
    done = "✅ " + _("{title} ({owner}): done by {name} on {at}").format(
        title=title, owner=owner, name=esc(task.done_by_name or "?"), at=_when(task.done_at, tz)
    )
    evidence = _evidence(task)
    return done + ("\n    " + evidence if evidence else "")


def render_checklist(quarter: str, tasks: Sequence[QuarterTask], tz: ZoneInfo) -> Rendered:
    """`/quarter`: the quarter's focus, each task with its owner, a button per open task."""
    focus = esc(_(tasks[0].focus)) if tasks else ""
    done = sum(1 for t in tasks if t.done)
    lines = [
        "🗓 "
        + _("<b>Quarterly deep maintenance {quarter}: {focus}</b>").format(
            quarter=quarter_name(quarter), focus=focus
        ),
        _("{done} of {total} done; due by {end}.").format(
            done=done, total=len(tasks), end=last_day(quarter).isoformat()
        ),
        "",
    ]
    lines += [_line(t, tz) for t in tasks]
    rows: list[list[dict[str, str]]] = []
    for task in tasks:
        label = shorten(_(task.title), 40)
        if task.done_at is None:
            text = _("Done: {title}").format(title=label)
            rows.append([key("✅ " + text, callback_data("tick", task.id))])
        else:
            text = _("Reopen: {title}").format(title=label)
            rows.append([key("↩️ " + text, callback_data("undo", task.id))])
    if done == len(tasks) and tasks:
        lines += ["", "🎉 " + _("Every task of the quarter is done.")]
    return Rendered("\n".join(lines), {"inline_keyboard": rows} if rows else None)


def render_evidence_prompt(task: QuarterTask) -> str:
    return _(
        "Send the evidence for “{title}”: a note, or a file or photo (with a caption if you "
        "like). /cancel to leave it open."
    ).format(title=esc(_(task.title)))


def render_ticked(task: QuarterTask, remaining: int) -> str:
    return _("“{title}” is done. {remaining} task(s) of the quarter still open.").format(
        title=esc(_(task.title)), remaining=remaining
    )


def render_reminder(quarter: str, tasks: Sequence[QuarterTask], tz: ZoneInfo) -> str:
    """The weekly reminder to an owner: their open tasks of the quarter."""
    lines = [
        "⏰ "
        + _("<b>Open quarterly maintenance tasks ({quarter})</b>").format(
            quarter=quarter_name(quarter)
        ),
        _("Due by {end}. Tick them off with /quarter, with a note or a file as evidence.").format(
            end=last_day(quarter).isoformat()
        ),
        "",
    ]
    lines += [_line(t, tz) for t in tasks]
    return "\n".join(lines)


def render_report(
    quarter: str, tasks: Sequence[QuarterTask], tz: ZoneInfo, *, complete: bool
) -> str:
    """The quarterly report: what was done, by whom, with what evidence, and what slipped."""
    done = [t for t in tasks if t.done]
    slipped = [t for t in tasks if not t.done]
    focus = esc(_(tasks[0].focus)) if tasks else ""
    lines = [
        "📋 "
        + _("<b>Quarterly report {quarter}: {focus}</b>").format(
            quarter=quarter_name(quarter), focus=focus
        ),
        _("{done} of {total} tasks done, {slipped} slipped.").format(
            done=len(done), total=len(tasks), slipped=len(slipped)
        ),
    ]
    if done:
        lines += ["", "<b>" + _("Done") + "</b>"]
        lines += [_line(t, tz) for t in done]
    if slipped:
        lines += ["", "<b>" + _("Slipped (not done by the end of the quarter)") + "</b>"]
        lines += [
            "❌ "
            + _("{title} ({owner})").format(
                title=esc(_(t.title)), owner=esc(role_label(t.owner_role))
            )
            for t in slipped
        ]
    elif complete:
        lines += ["", "🎉 " + _("Nothing slipped.")]
    return "\n".join(lines)
