"""Pure renderer of a storm message: one compact line per alert group (severity, alertname,
firing count, first labels), buttons to open a group's details, and Acknowledge all.

Callback data is `st:<storm id>:<act>:<group id>`, packed and parsed by `StormAction`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from services.alerts.render import HIDDEN_LABELS, MARKS, Rendered, when
from services.buttons import Button, button
from services.i18n import gettext, ngettext
from services.message import key
from services.text import TELEGRAM_TEXT_LIMIT, esc

DETAIL_BUTTONS = 8  # groups with a details button (the most severe, then the largest)
LINE_MIN = 28  # narrower lines than this say too little: fewer lines, then a pointer
BUDGET = TELEGRAM_TEXT_LIMIT - 96


StormAct = Literal["det", "ack", "back"]


@button("st")
@dataclass(frozen=True)
class StormAction(Button):
    """A storm message's buttons: a group's details, Acknowledge all, Back to the storm."""

    s: int  # the storm
    a: StormAct
    g: int = 0  # the group (details)


def callback_data(storm_id: int, action: StormAct, group_id: int = 0) -> str:
    return StormAction(storm_id, action, group_id).pack()


@dataclass(frozen=True)
class StormLine:
    group_id: int
    alertname: str
    severity: str
    firing: int
    first_labels: Mapping[str, str]
    resolved: bool = False
    acknowledged: bool = False


@dataclass(frozen=True)
class StormView:
    id: int
    opened_at: datetime
    lines: Sequence[StormLine]
    acknowledged_name: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def firing_lines(self) -> list[StormLine]:
        return [line for line in self.lines if not line.resolved]

    @property
    def over(self) -> bool:
        return not self.firing_lines


RANK = {"critical": 0, "warning": 1, "info": 2}


def ordered(lines: Sequence[StormLine]) -> list[StormLine]:
    """Firing before resolved; the most severe, then the largest, then by name."""
    return sorted(
        lines,
        key=lambda x: (x.resolved, RANK.get(x.severity, 3), -x.firing, x.alertname, x.group_id),
    )


def _labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in HIDDEN_LABELS)


def _line(item: StormLine, width: int) -> str:
    """At most `width` characters of HTML (markup included: what Telegram's limit sees first)."""
    if item.resolved:
        head = f"✅ <s>{esc(item.alertname)}</s>"
    else:
        mark = MARKS.get(item.severity, "⚪")
        ack = " 👤" if item.acknowledged else ""
        head = f"{mark} <b>{esc(item.alertname)}</b> ×{item.firing}{ack}"
    labels = _labels(item.first_labels)
    room = width - len(head) - 1
    if not labels or room < 4:
        return head
    shown = esc(labels)
    cut = len(labels)
    while len(shown) > room and cut > 0:
        cut = min(cut - 1, room - 1)
        shown = esc(labels[:cut]) + "…"
    return f"{head} {shown}" if cut > 0 else head


def render_storm(view: StormView, tz: tzinfo) -> Rendered:
    items = ordered(view.lines)
    firing = sum(x.firing for x in items if not x.resolved)
    if view.over:
        title = "✅ <b>" + gettext("Alert storm over") + "</b>"
    else:
        title = "🌩 <b>" + gettext("Alert storm") + "</b>"
    summary = ngettext(
        "{groups} alert group, {alerts} alerts firing, since {time}",
        "{groups} alert groups, {alerts} alerts firing, since {time}",
        len(items),
    ).format(groups=len(items), alerts=firing, time=when(view.opened_at, tz))
    head = [title, summary]
    foot: list[str] = []
    if view.acknowledged_name:
        foot.append(
            "👤 "
            + gettext("All acknowledged by {name} at {time}").format(
                name=esc(view.acknowledged_name), time=when(view.acknowledged_at, tz)
            )
        )
    if not view.over:
        foot.append(gettext("One message for all: Telegram would hold back one message each."))
    room = BUDGET - sum(len(x) + 1 for x in head + foot)
    shown = items
    width = room // max(1, len(items)) - 1
    if width < LINE_MIN:  # too many groups for one message: the first ones, then a pointer
        fits = max(1, (room - 60) // (LINE_MIN + 1))
        shown = items[:fits]
        width = LINE_MIN
    body = [_line(item, width) for item in shown]
    if len(shown) < len(items):
        rest = len(items) - len(shown)
        body.append(
            ngettext(
                "…and {count} more group: /alerts", "…and {count} more groups: /alerts", rest
            ).format(count=rest)
        )
    text = "\n".join([*head, *body, *foot])
    return Rendered(text, {"inline_keyboard": [] if view.over else keyboard(view, items)})


def keyboard(view: StormView, items: Sequence[StormLine]) -> list[list[dict[str, str]]]:
    rows: list[list[dict[str, str]]] = []
    pair: list[dict[str, str]] = []
    for item in [x for x in items if not x.resolved][:DETAIL_BUTTONS]:
        label = f"🔎 {item.alertname[:24]} ×{item.firing}"
        pair.append(key(label, callback_data(view.id, "det", item.group_id)))
        if len(pair) == 2:
            rows.append(pair)
            pair = []
    if pair:
        rows.append(pair)
    rows.append([key(gettext("Acknowledge all"), callback_data(view.id, "ack"))])
    return rows


def back_row(storm_id: int) -> list[dict[str, str]]:
    """Below a group's details shown in the storm message itself."""
    back = gettext("◀ Back to the storm")
    return [key(back, callback_data(storm_id, "back"))]
