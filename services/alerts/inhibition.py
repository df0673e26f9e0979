"""RULES_FILE `alerts.inhibit_rules`: Alertmanager's inhibition, in the bot.

A firing alert matching a rule's `source_matchers` mutes every alert matching its
`target_matchers` that has the same values (a missing label counting as empty) for each label
in `equal`. An alert matching both sides is never muted by an alert that also matches both
sides, so it does not inhibit itself. Sources need only be firing: a silenced or inhibited
alert still inhibits. This is `inhibit/inhibit.go` of Alertmanager 0.25, checked against the
real thing by tests/integration/alerts/test_routing_vs_alertmanager.py.

An inhibited alert is stored and listed in `/alerts` with what inhibits it; its group's message
leaves it out (as for a silenced one). Each tick `apply` records who inhibits whom
(`alerts.inhibited_by`) and looks again at the groups whose alerts changed, so a target still
firing when its source resolves is pushed then.

QuickCart's defaults are in `default_inhibit_rules.yaml` next to this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from services.alerts.matchers import Matcher
from services.alerts.packaged import packaged_list
from services.alerts.routing import matchers_of
from services.storage.types import Executor

DEFAULT_FILE = "default_inhibit_rules.yaml"


class InhibitRuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_matchers: list[str] = Field(default_factory=list)
    target_matchers: list[str] = Field(default_factory=list)
    source_match: dict[str, str] = Field(default_factory=dict)
    source_match_re: dict[str, str] = Field(default_factory=dict)
    target_match: dict[str, str] = Field(default_factory=dict)
    target_match_re: dict[str, str] = Field(default_factory=dict)
    equal: list[str] = Field(default_factory=list)

    def compiled(self) -> InhibitRule:
        return InhibitRule(
            source=matchers_of(self.source_matchers, self.source_match, self.source_match_re),
            target=matchers_of(self.target_matchers, self.target_match, self.target_match_re),
            equal=tuple(self.equal),
        )


def default_inhibit_rules() -> list[InhibitRuleConfig]:
    return packaged_list(InhibitRuleConfig, DEFAULT_FILE, "inhibit rules")


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def is_source(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.source)

    def is_target(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.target)

    def key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """What `equal` compares (a missing label is the empty string, as in Alertmanager)."""
        return tuple(labels.get(name, "") for name in self.equal)

    def sources(self, firing: Sequence[Labelled]) -> dict[tuple[str, ...], list[Labelled]]:
        """The firing alerts that match the source side, by their `equal` values."""
        found: dict[tuple[str, ...], list[Labelled]] = {}
        for alert in firing:
            if self.is_source(alert.labels):
                found.setdefault(self.key(alert.labels), []).append(alert)
        return found

    def source_of(
        self, target: Mapping[str, str], sources: Mapping[tuple[str, ...], list[Labelled]]
    ) -> Labelled | None:
        """The first source that mutes `target` under this rule, if any. An alert matching both
        sides is muted only by a source that does not (so never by itself)."""
        if not self.is_target(target):
            return None
        two_sided = self.is_source(target)
        for alert in sources.get(self.key(target), ()):
            if two_sided and self.is_target(alert.labels):
                continue
            return alert
        return None


class Labelled(Protocol):
    @property
    def fingerprint(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


def inhibited(rules: Sequence[InhibitRule], firing: Sequence[Labelled]) -> dict[str, Labelled]:
    """fingerprint of each muted alert -> the alert that mutes it. `firing` are all the alerts
    that fire now, in the order a source is preferred (the oldest first). Each rule's sources are
    indexed by their `equal` values once, so a storm of alerts costs a pass per rule."""
    indexed = [(rule, rule.sources(firing)) for rule in rules]
    muted: dict[str, Labelled] = {}
    for alert in firing:
        for rule, sources in indexed:
            source = rule.source_of(alert.labels, sources)
            if source is not None:
                muted[alert.fingerprint] = source
                break
    return muted


async def apply(db: Executor, rules: Sequence[InhibitRule]) -> list[int]:
    """Record which firing alert is inhibited by which (`alerts.inhibited_by`); return the open
    groups whose alerts became or stopped being inhibited (to be looked at again)."""
    from services.alerts import store  # store imports config, which imports this module

    firing = [a for a in await store.active_alerts(db) if a.state == "firing"]
    muted = {fp: src.fingerprint for fp, src in inhibited(rules, firing).items()}
    before = {a.fingerprint: a for a in await store.inhibited_alerts(db)}
    changed = [a for fp, a in before.items() if muted.get(fp) != a.inhibited_by]
    changed += [
        a for a in firing if a.fingerprint in muted and a.inhibited_by != muted[a.fingerprint]
    ]
    if not changed:
        return []
    await store.set_inhibited(db, muted)
    return sorted({a.group_id for a in changed if a.group_id is not None})
