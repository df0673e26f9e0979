"""`quickcart-ops alerts route`: which receivers an alert with given labels reaches (like
`amtool config routes test`), and the routing tree itself. Pure renderers, in the current
locale; the first line of a test is the receiver names, comma-separated, as amtool prints them.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.alerts.config import AlertsRules
from services.alerts.matchers import BadMatcher, parse_matchers
from services.alerts.receivers import reach
from services.alerts.routing import describe_tree, receivers_of
from services.i18n import gettext


class BadLabels(ValueError):
    """Labels that are not `name=value` pairs; `str()` is the offending text."""


def parse_labels(texts: list[str]) -> dict[str, str]:
    """`severity=critical,team=payments` (or several such arguments) -> a label set."""
    labels: dict[str, str] = {}
    for text in texts:
        try:
            matchers = parse_matchers(text)
        except BadMatcher as exc:
            raise BadLabels(str(exc)) from None
        for matcher in matchers:
            if matcher.op != "=":
                raise BadLabels(str(matcher))
            labels[matcher.name] = matcher.value
    return labels


def render_route_test(config: AlertsRules, labels: Mapping[str, str]) -> str:
    tree = config.tree
    if tree is None:
        lines = [
            gettext(
                "No routing tree in RULES_FILE: every alert goes to the admin chat and its"
                " rule's channels."
            )
        ]
        rule = config.rule(labels.get("alertname", ""))
        if rule is not None:
            lines.append(
                gettext("Rule {name}: {channels}").format(
                    name=rule.name, channels=", ".join(rule.channels)
                )
            )
        return "\n".join(lines)
    routes = tree.match(labels)
    names = receivers_of(routes)
    lines = [",".join(r.receiver for r in routes)]  # amtool's line: one name per route
    for receiver in reach(config, names):
        parts = []
        if receiver.chats:
            parts.append(gettext("chats {names}").format(names=", ".join(receiver.chats)))
        if receiver.roles:
            parts.append(gettext("on call for {roles}").format(roles=", ".join(receiver.roles)))
        if receiver.channels:
            parts.append(gettext("channels {names}").format(names=", ".join(receiver.channels)))
        shown = " · ".join(parts) or gettext("nobody (the alert is only listed)")
        lines.append(f"  {receiver.name}: {shown}")
    first = routes[0]
    lines.append(
        gettext("Route {route}, grouped by {labels}").format(
            route=first.id or "root", labels=", ".join(first.group_by) or "-"
        )
    )
    return "\n".join(lines)


def render_tree(config: AlertsRules) -> str:
    if config.tree is None:
        return gettext(
            "No routing tree in RULES_FILE: every alert goes to the admin chat and its"
            " rule's channels."
        )
    return "\n".join(describe_tree(config.tree))
