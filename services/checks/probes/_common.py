"""Helpers the probes share: collecting findings into one outcome, and judging bands."""

from __future__ import annotations

from typing import Any

from services.checks.config import Band
from services.checks.model import Outcome, Sentence, Status, Unit, Value, worst


def judge(amount: float, band: Band) -> Status:
    """Critical above `crit`, warning above `warn`, otherwise ok."""
    if amount > band.crit:
        return Status.CRIT
    if amount > band.warn:
        return Status.WARN
    return Status.OK


def judge_low(amount: float, warn_below: float, crit_below: float) -> Status:
    """For figures that must stay high (success rates)."""
    if amount < crit_below:
        return Status.CRIT
    if amount < warn_below:
        return Status.WARN
    return Status.OK


class Findings:
    """What a probe found: problems with their status, plain notes, and measured values."""

    def __init__(self) -> None:
        self.problems: list[tuple[Status, Sentence]] = []
        self.notes: list[Sentence] = []
        self.values: list[Value] = []

    def add(self, status: Status, msgid: str, /, **params: Any) -> None:
        if status is Status.OK:
            self.notes.append(Sentence(msgid, params))
        else:
            self.problems.append((status, Sentence(msgid, params)))

    def note(self, msgid: str, /, **params: Any) -> None:
        self.notes.append(Sentence(msgid, params))

    def value(self, key: str, amount: float, unit: Unit, target: str = "") -> float:
        self.values.append(Value(key, float(amount), unit, target))
        return float(amount)

    def outcome(self, msgid: str, /, **params: Any) -> Outcome:
        """The worst problem leads; `msgid` is the sentence when everything is fine."""
        status = worst(tuple(s for s, _ in self.problems))
        ordered = sorted(self.problems, key=lambda p: -_rank(p[0]))
        sentence = ordered[0][1] if ordered else Sentence(msgid, params)
        details = tuple(s for _, s in ordered) + tuple(self.notes)
        return Outcome(status, sentence, tuple(self.values), details)


def _rank(status: Status) -> int:
    return {Status.OK: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.CRIT: 3}[status]
