"""What a probe reports: a status, measured values with units, and sentences for people.

Sentences are kept as a msgid with named parameters and translated when they are shown,
so a stored result reads in Bahasa Indonesia for one person and in English for another.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.i18n import gettext


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        """Nagios plugin convention: 0 ok, 1 warning, 2 critical, 3 unknown."""
        return _EXIT_CODES[self]


_EXIT_CODES = {Status.OK: 0, Status.WARN: 1, Status.CRIT: 2, Status.UNKNOWN: 3}
# Which status wins when several are combined: critical, then warning, then unknown.
_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.CRIT: 3}


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The overall status: crit > warn > unknown > ok (an empty list is ok)."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.OK)


class Unit(enum.StrEnum):
    PERCENT = "percent"
    SECONDS = "seconds"
    BYTES = "bytes"
    COUNT = "count"
    RATIO = "ratio"


@dataclass(frozen=True)
class Sentence:
    """A catalogue msgid (marked with `N_`) and its named parameters."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        """The sentence in the current locale."""
        return gettext(self.msgid).format(**self.params)

    def to_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sentence:
        return cls(str(data["msgid"]), dict(data.get("params") or {}))


@dataclass(frozen=True)
class Value:
    """One measured number. `target` tells series apart (a mount point, a table name)."""

    key: str
    amount: float
    unit: Unit
    target: str = ""


@dataclass(frozen=True)
class Outcome:
    """What a probe function returns; the runner adds the name, timing and storage."""

    status: Status
    sentence: Sentence
    values: tuple[Value, ...] = ()
    details: tuple[Sentence, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    sentence: Sentence
    values: tuple[Value, ...]
    details: tuple[Sentence, ...]
    started_at: datetime
    duration_s: float
    error: str | None = None

    @property
    def summary(self) -> str:
        """The one human sentence, in the current locale."""
        return self.sentence.render()

    def value(self, key: str, target: str = "") -> float | None:
        for item in self.values:
            if item.key == key and item.target == target:
                return item.amount
        return None


@dataclass(frozen=True)
class CheckReport:
    """One run of several probes."""

    started_at: datetime
    duration_s: float
    results: tuple[CheckResult, ...]
    run_id: int | None = None

    @property
    def status(self) -> Status:
        return worst(tuple(r.status for r in self.results))

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    def get(self, name: str) -> CheckResult | None:
        for result in self.results:
            if result.name == name:
                return result
        return None

    @property
    def slowest_s(self) -> float:
        return max((r.duration_s for r in self.results), default=0.0)
