"""Pure renderers of on-call texts: the board, a person's shifts, previews, handoffs, notices.

Callers choose the language (`with use_locale(...)`); names come in as a mapping user id ->
shown name; every foreign string passes through `esc`. Keyboards are plain Bot API dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, Longest, button
from services.escalation.render import role_label
from services.i18n import N_
from services.i18n import gettext as _
from services.message import Keyboard, key, keyboard
from services.oncall.model import DAYS, RotationSpec, Shift
from services.text import esc

DAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
Names = Mapping[int, str]


@button("rot")
@dataclass(frozen=True)
class RotationDraft(Button):
    """Save or drop a previewed rotation change."""

    id: int
    act: Literal["save", "drop"]


@button("osw")
@dataclass(frozen=True)
class SwapAnswer(Button):
    """The other person's answer to a proposed swap."""

    id: int
    act: Literal["yes", "no"]


@button("ocv")
@dataclass(frozen=True)
class CoverPick(Button):
    """/oncall cover by buttons: which shift (`t`: its end, seconds since the epoch, stable
    while it runs; `r`: the role's index in services.users.Role), then who covers (`u`)."""

    act: Literal["shift", "who"]
    r: Annotated[int, Longest(3)]
    t: Annotated[int, Longest(12)]
    u: Annotated[int, Longest(16)] = 0  # Telegram user ids stay below 2**52


def rotation_button(draft_id: int, act: Literal["save", "drop"]) -> str:
    return RotationDraft(draft_id, act).pack()


def swap_button(swap_id: int, act: Literal["yes", "no"]) -> str:
    return SwapAnswer(swap_id, act).pack()


def when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{_(DAY_NAMES[local.weekday()])} {local:%d.%m %H:%M}"


def name(user_id: int | None, names: Names) -> str:
    if user_id is None:
        return _("nobody (gap)")
    return esc(names.get(user_id, str(user_id)))


@dataclass(frozen=True)
class BoardRow:
    level: int
    role: str
    scheduled: bool  # the role has a rotation
    current: Shift | None  # from the schedule
    following: Shift | None
    slot_people: tuple[int, ...] = ()  # without a rotation: the `/oncall set` answer


def board(rows: Sequence[BoardRow], names: Names, tz: ZoneInfo, *, title: str | None = None) -> str:
    lines = [title or _("<b>On call now</b>")]
    for row in rows:
        label = esc(role_label(row.role))
        if not row.scheduled or row.current is None:
            people = ", ".join(name(u, names) for u in row.slot_people) or _("nobody")
            text = (
                _("Level {level}, {role}: {names}") if row.level else _("{role}: {names}")
            ).format(level=row.level, role=label, names=people)
            lines.append(text)
            continue
        text = (
            _("Level {level}, {role}: {name} until {until}")
            if row.level
            else _("{role}: {name} until {until}")
        ).format(
            level=row.level,
            role=label,
            name=name(row.current.user_id, names),
            until=when(row.current.end, tz),
        )
        if row.current.override_id is not None:
            text += " " + _("(override)")
        if row.following is not None:
            text += "\n    " + _("next: {name}").format(name=name(row.following.user_id, names))
        lines.append(text)
    return "\n".join(lines)


def my_shifts(found: Sequence[Shift], tz: ZoneInfo, *, horizon_weeks: int) -> str:
    if not found:
        return _("You have no on-call shifts in the next {weeks} weeks.").format(
            weeks=horizon_weeks
        )
    lines = [_("<b>Your next on-call shifts</b>")]
    for shift in found[:20]:
        lines.append(
            _("• {role}: {start} – {end}").format(
                role=esc(role_label(shift.role)),
                start=when(shift.start, tz),
                end=when(shift.end, tz),
            )
        )
    return "\n".join(lines)


def layer_summary(spec: RotationSpec, names: Names) -> list[str]:
    lines = []
    for layer in spec.layers:
        members = ", ".join(name(m, names) for m in layer.members)
        shift = {"daily": _("daily"), "weekly": _("weekly")}.get(
            layer.shift, _("every {hours} hours").format(hours=layer.shift[:-1])
        )
        text = _("{layer}: {shift}, handoff {handoff}: {members}").format(
            layer=esc(layer.name), shift=shift, handoff=esc(layer.handoff), members=members
        )
        if layer.restrict:
            text += " " + _("(only {windows})").format(windows=esc(", ".join(layer.restrict)))
        lines.append("• " + text)
    return lines


def rotations(found: Sequence[tuple[str, RotationSpec | None]], names: Names) -> str:
    if not found:
        return _(
            "No rotations yet: the /oncall set slots answer. An admin sets one with "
            "/rotation set &lt;role&gt; weekly mon 09:00 &lt;people...&gt;"
        )
    lines = [_("<b>Rotations</b>")]
    for role, spec in found:
        lines.append(f"<b>{esc(role_label(role))}</b>")
        lines.extend(layer_summary(spec, names) if spec else ["• " + _("removed")])
    return "\n".join(lines)


def preview(
    role: str, spec: RotationSpec | None, upcoming: Sequence[Shift], names: Names, tz: ZoneInfo
) -> str:
    if spec is None:
        lines = [
            _("<b>Remove the {role} rotation?</b>").format(role=esc(role_label(role))),
            _("From then on the /oncall set slot answers for this role."),
        ]
        return "\n".join(lines)
    lines = [_("<b>New {role} rotation</b>").format(role=esc(role_label(role)))]
    lines.extend(layer_summary(spec, names))
    lines.append(_("The next four shifts:"))
    for shift in upcoming[:4]:
        lines.append(
            f"• {when(shift.start, tz)} – {when(shift.end, tz)}: {name(shift.user_id, names)}"
        )
    lines.append(_("Nothing changes until you press Save."))
    return "\n".join(lines)


def preview_keyboard(draft_id: int) -> Keyboard:
    save = key(_("Save"), rotation_button(draft_id, "save"))
    return keyboard([[save, key(_("Cancel"), rotation_button(draft_id, "drop"))]])


def rotation_saved(role: str, by: str) -> str:
    return _("The {role} rotation was changed by {name}. /oncall me shows your shifts.").format(
        role=esc(role_label(role)), name=esc(by)
    )


def cover_notice(
    role: str, coverer: int, replaced: int | None, start: datetime, end: datetime,
    names: Names, tz: ZoneInfo, by: str,
) -> str:  # fmt: skip
    if replaced is None:
        return _("{coverer} is on call as {role} from {start} to {end} (set by {by}).").format(
            coverer=name(coverer, names),
            role=esc(role_label(role)),
            start=when(start, tz),
            end=when(end, tz),
            by=esc(by),
        )
    return _("{coverer} covers {replaced} as {role} from {start} to {end} (set by {by}).").format(
        coverer=name(coverer, names),
        replaced=name(replaced, names),
        role=esc(role_label(role)),
        start=when(start, tz),
        end=when(end, tz),
        by=esc(by),
    )


def override_cancelled(role: str, start: datetime, end: datetime, tz: ZoneInfo, by: str) -> str:
    return _("The {role} override {start} – {end} was cancelled by {by}.").format(
        role=esc(role_label(role)), start=when(start, tz), end=when(end, tz), by=esc(by)
    )


def swap_proposal(
    role: str, a: int, a_shift: tuple[datetime, datetime], b: int,
    b_shift: tuple[datetime, datetime], names: Names, tz: ZoneInfo,
) -> str:  # fmt: skip
    return _(
        "<b>Shift swap ({role})</b>\n{a} takes {b_start} – {b_end}\n{b} takes {a_start} – {a_end}\n"
        "Both must press Accept."
    ).format(
        role=esc(role_label(role)),
        a=name(a, names),
        b=name(b, names),
        a_start=when(a_shift[0], tz),
        a_end=when(a_shift[1], tz),
        b_start=when(b_shift[0], tz),
        b_end=when(b_shift[1], tz),
    )


def swap_keyboard(swap_id: int) -> Keyboard:
    accept = key(_("Accept"), swap_button(swap_id, "yes"))
    return keyboard([[accept, key(_("Decline"), swap_button(swap_id, "no"))]])


def swap_done(role: str, a: int, b: int, names: Names) -> str:
    return _("{a} and {b} swapped their {role} shifts.").format(
        a=name(a, names), b=name(b, names), role=esc(role_label(role))
    )


def swap_declined(role: str, by: int, names: Names) -> str:
    return _("{name} declined the {role} shift swap; nothing changed.").format(
        name=name(by, names), role=esc(role_label(role))
    )


@dataclass(frozen=True)
class OpenWork:
    """An open incident or ticket the incoming person inherits."""

    number: str
    priority: str
    subject: str


def handoff_incoming(
    role: str, shift: Shift, work: Sequence[OpenWork], outgoing: int | None, names: Names,
    tz: ZoneInfo,
) -> str:  # fmt: skip
    lines = [
        _("📟 <b>You are on call as {role}</b> until {end}.").format(
            role=esc(role_label(role)), end=when(shift.end, tz)
        )
    ]
    if outgoing is not None:
        lines.append(_("Handed over by {name}.").format(name=name(outgoing, names)))
    if work:
        lines.append(_("Open now:"))
        lines.extend(f"• {esc(w.priority)} {esc(w.number)} {esc(w.subject)}" for w in work[:30])
        if len(work) > 30:
            lines.append(_("…and {count} more: /incidents").format(count=len(work) - 30))
    else:
        lines.append(_("Nothing open for your role right now."))
    return "\n".join(lines)


def handoff_outgoing(role: str, shift: Shift, incoming: int | None, open_count: int,
                     names: Names, tz: ZoneInfo) -> str:  # fmt: skip
    return _(
        "Thank you! Your {role} shift ended at {end}. {name} has it now; {count} open "
        "item(s) handed over."
    ).format(
        role=esc(role_label(role)), end=when(shift.end, tz), name=name(incoming, names),
        count=open_count,
    )  # fmt: skip


def handoff_line(role: str, outgoing: int | None, incoming: int | None, names: Names) -> str:
    return _("📟 {role}: {outgoing} → {incoming}").format(
        role=esc(role_label(role)), outgoing=name(outgoing, names), incoming=name(incoming, names)
    )


def gap_notice(role: str, start: datetime, end: datetime, tz: ZoneInfo, nxt: str | None) -> str:
    text = _("⚠️ Nobody is on call as {role} from {start} to {end}.").format(
        role=esc(role_label(role)), start=when(start, tz), end=when(end, tz)
    )
    if nxt:
        text += " " + _("Pages go to the next level ({role}) meanwhile.").format(role=esc(nxt))
    return text + " " + _("Fill it with /oncall cover.")


def calendar_links(person_url: str, role_urls: Sequence[tuple[str, str]]) -> str:
    lines = [
        _(
            "<b>Your on-call calendar</b> (next 8 weeks; subscribe in Google Calendar or "
            "Thunderbird):"
        ),
        esc(person_url),
    ]
    for role, url in role_urls:
        lines.append(_("{role} rotation:").format(role=esc(role_label(role))))
        lines.append(esc(url))
    lines.append(_("Keep these links private; /oncall calendar reset revokes them."))
    return "\n".join(lines)


def day_name(index: int) -> str:
    return DAYS[index]
