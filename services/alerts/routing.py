"""RULES_FILE `alerts.route` and `alerts.receivers`: Alertmanager's routing tree, in the bot.

An alert enters at the root route (which matches everything) and walks down: the first child
whose matchers all hold takes it, and the walk stops there unless that child says
`continue: true`; a route none of whose children match is itself the match. Children inherit
`receiver`, `group_by`, `group_wait`, `group_interval` and `repeat_interval` from their parent.
This is `dispatch/route.go` of Alertmanager 0.25, checked against the real thing by
tests/integration/alerts/test_routing_vs_alertmanager.py.

Matchers are Alertmanager's (`matchers: ['team="payments"', 'severity=~"crit.*"']`, or the older
`match` / `match_re` maps), with anchored RE2 regular expressions (services.alerts.matchers).

A receiver names who hears an alert: chats (`admin`, `support`, `security`, a name of
`alerts.telegram_chats`, or a chat id), roles (the person on call for the role, in a private
chat), and the secondary channels (`email`, `slack`, `sms`). A receiver with none of them is
Alertmanager's "null" receiver: the alert is stored and listed, and pushed nowhere.

Without `alerts.route` nothing here applies: every alert goes to the admin chat and its rule's
channels, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.alerts.durations import Duration
from services.alerts.matchers import BadMatcher, Matcher, parse_matchers
from services.users import Role

GROUP_BY_ALL = "..."


def matchers_of(
    strings: list[str], match: Mapping[str, str], match_re: Mapping[str, str]
) -> tuple[Matcher, ...]:
    """Alertmanager's `matchers` strings and its older `match` / `match_re` maps, as one list."""
    found: list[Matcher] = []
    for text in strings:
        try:
            parsed = parse_matchers(text)
        except BadMatcher as exc:
            why = f" ({exc.reason})" if exc.reason else ""
            raise ValueError(f"bad matcher {str(exc)!r}{why}") from None
        if not parsed:
            raise ValueError(f"bad matcher {text!r}")
        found.extend(parsed)
    try:
        found.extend(Matcher(k, "=", v) for k, v in sorted(match.items()))
        found.extend(Matcher(k, "=~", v) for k, v in sorted(match_re.items()))
    except BadMatcher as exc:
        raise ValueError(f"bad regular expression {str(exc)!r} ({exc.reason})") from None
    return tuple(found)


class RouteConfig(BaseModel):
    """One node of the tree, as written in RULES_FILE (Alertmanager's field names)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    receiver: str | None = None
    matchers: list[str] = Field(default_factory=list)
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    continue_: bool = Field(default=False, alias="continue")
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    routes: list[RouteConfig] = Field(default_factory=list)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and GROUP_BY_ALL in value and len(value) > 1:
            raise ValueError("'...' must be the only label of group_by")
        return value

    @field_validator("group_interval", "repeat_interval")
    @classmethod
    def _not_zero(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta():
            raise ValueError("must be longer than zero")
        return value

    def compiled_matchers(self) -> tuple[Matcher, ...]:
        return matchers_of(self.matchers, self.match, self.match_re)


class ReceiverConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    chats: list[str | int] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    channels: list[Literal["email", "slack", "sms"]] = Field(default_factory=list)


@dataclass(frozen=True)
class Route:
    """A node with everything inherited filled in. `id` is its path from the root ("" for the
    root, "0", "0.2", ...): it names the node in group keys and in `alerts route --tree`."""

    id: str
    matchers: tuple[Matcher, ...]
    receiver: str
    continue_: bool
    group_by: tuple[str, ...]  # ("...",): every label
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    routes: tuple[Route, ...] = ()

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with these labels ends at, in tree order (Alertmanager's
        `Route.Match`)."""
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Route]]:
        yield depth, self
        for child in self.routes:
            yield from child.walk(depth + 1)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by == (GROUP_BY_ALL,):
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}


def build(
    config: RouteConfig,
    defaults: tuple[tuple[str, ...], timedelta, timedelta, timedelta],
    receivers: set[str],
) -> Route:
    """The tree with inherited values filled in; ValueError names what does not fit."""
    if config.matchers or config.match or config.match_re:
        raise ValueError("the root route must not have matchers")
    if config.continue_:
        raise ValueError("the root route cannot have continue")
    if not config.receiver:
        raise ValueError("the root route needs a receiver")
    return _build(config, None, "", defaults, receivers)


def _build(
    config: RouteConfig,
    parent: Route | None,
    route_id: str,
    defaults: tuple[tuple[str, ...], timedelta, timedelta, timedelta],
    receivers: set[str],
) -> Route:
    group_by, wait, interval, repeat = (
        defaults
        if parent is None
        else (parent.group_by, parent.group_wait, parent.group_interval, parent.repeat_interval)
    )
    receiver = config.receiver or (parent.receiver if parent else "")
    if receiver not in receivers:
        raise ValueError(f"route {route_id or 'root'}: receiver {receiver!r} is not defined")
    node = Route(
        id=route_id,
        matchers=config.compiled_matchers(),
        receiver=receiver,
        continue_=config.continue_,
        group_by=tuple(config.group_by) if config.group_by is not None else group_by,
        group_wait=config.group_wait if config.group_wait is not None else wait,
        group_interval=config.group_interval if config.group_interval is not None else interval,
        repeat_interval=config.repeat_interval if config.repeat_interval is not None else repeat,
    )
    children = tuple(
        _build(child, node, f"{route_id}.{i}" if route_id else str(i), defaults, receivers)
        for i, child in enumerate(config.routes)
    )
    return Route(**{**node.__dict__, "routes": children})


def receivers_of(routes: list[Route]) -> list[str]:
    """Receiver names in tree order, each once."""
    seen: list[str] = []
    for route in routes:
        if route.receiver not in seen:
            seen.append(route.receiver)
    return seen


def describe_tree(root: Route) -> list[str]:
    """One line per node, indented, for `quickcart-ops alerts route --tree`."""
    lines: list[str] = []
    for depth, node in root.walk():
        matchers = ", ".join(str(m) for m in node.matchers) or "*"
        flags = [f"receiver: {node.receiver}", "group_by: [" + ", ".join(node.group_by) + "]"]
        if node.continue_:
            flags.append("continue")
        lines.append(f"{'  ' * depth}{{{matchers}}}  " + "  ".join(flags))
    return lines


def group_spec(
    tree: Route,
    receivers: Mapping[str, ReceiverConfig],
    alertname: str,
    labels: Mapping[str, str],
    severity: str,
) -> dict[str, Any]:
    """The alert group (as `store.open_groups` takes it) of an alert the tree routes.

    An alert several routes take (`continue`) is one message to every receiver of those routes,
    grouped and timed by the first of them. When the route's `group_by` leaves `alertname` out,
    alerts of different names share the group (its key then starts with no name)."""
    routes = tree.match(labels)
    first = routes[0]
    names = receivers_of(routes)
    keyed = first.group_labels(labels)
    shown = {k: v for k, v in keyed.items() if k != "alertname"}
    by_name = "alertname" in first.group_by or first.group_by == (GROUP_BY_ALL,)
    canonical = json.dumps(sorted(shown.items()), separators=(",", ":"), ensure_ascii=False)
    path = "+".join(r.id or "root" for r in routes)
    wanted = {c for n in names if (r := receivers.get(n)) is not None for c in r.channels}
    return {
        "key": f"{alertname if by_name else ''}|@{path}|{canonical}",
        "labels": {**shown, "alertname": alertname} if by_name else shown,
        "severity": severity,
        "channels": [c for c in ("email", "slack", "sms") if c in wanted],
        "receivers": names,
        "group_wait_s": first.group_wait.total_seconds(),
        "group_interval_s": first.group_interval.total_seconds(),
        "repeat_interval_s": first.repeat_interval.total_seconds(),
    }
