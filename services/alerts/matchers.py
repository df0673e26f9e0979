"""Alertmanager label matchers: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`.

Regular expressions match whole values, as in Alertmanager, and run on RE2 (`services.patterns`),
so no pattern can make matching backtrack for ever; a label the alert does not carry matches as
the empty string. `parse_silence_args` reads `/silence` arguments:
matchers, then a duration, then an optional comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from services.alerts.durations import BadDuration, parse_duration
from services.patterns import BadPattern, compile_pattern

Op = Literal["=", "!=", "=~", "!~"]
OPS: tuple[Op, ...] = ("=", "!=", "=~", "!~")
MAX_REGEX = 256

_MATCHER = re.compile(
    r"""\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*
        (?P<op>=~|!~|!=|=)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,{}"']*)\s*""",
    re.VERBOSE,
)


class BadMatcher(ValueError):
    """A matcher that does not parse; `str()` is the offending text. `reason` is set when the
    matcher parses but its regular expression cannot be used (RE2's words)."""

    def __init__(self, text: str, reason: str = "") -> None:
        super().__init__(text)
        self.reason = reason


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str
    # False only for matchers read back from storage: they were checked when stored.
    checked: bool = field(default=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~") and self.checked:
            if len(self.value) > MAX_REGEX:
                raise BadMatcher(self.value, f"longer than {MAX_REGEX} characters")
            try:
                compile_pattern(self.value)
            except BadPattern as exc:
                raise BadMatcher(self.value, exc.reason) from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        try:
            found = compile_pattern(self.value).fullmatch(actual)
        except BadPattern:  # stored before patterns ran on RE2: it matches nothing
            return False
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        quoted = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{quoted}"'

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Matcher:
        op = str(data["op"])
        if op not in OPS:
            raise BadMatcher(op)
        return cls(str(data["name"]), op, str(data["value"]), checked=False)


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def parse_matcher(text: str) -> Matcher:
    match = _MATCHER.fullmatch(text)
    if match is None:
        raise BadMatcher(text)
    return Matcher(match["name"], match["op"], _unquote(match["value"]))  # type: ignore[arg-type]


def parse_matchers(text: str) -> list[Matcher]:
    """`{a="b", c=~"d|e"}` or `a=b c!=d`: braces and commas are optional."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    found: list[Matcher] = []
    pos = 0
    while pos < len(body):
        if body[pos] in " ,\t\n":
            pos += 1
            continue
        match = _MATCHER.match(body, pos)
        if match is None or match.end() == pos:
            raise BadMatcher(body[pos:].split()[0] if body[pos:].split() else body[pos:])
        found.append(
            Matcher(match["name"], match["op"], _unquote(match["value"]))  # type: ignore[arg-type]
        )
        pos = match.end()
    return found


@dataclass(frozen=True)
class SilenceRequest:
    matchers: tuple[Matcher, ...]
    duration: timedelta
    comment: str


class BadSilence(ValueError):
    """Why `/silence` arguments cannot be used: `reason` is one of the constants below."""

    NO_MATCHERS = "no_matchers"
    NO_DURATION = "no_duration"
    BAD_MATCHER = "bad_matcher"
    BAD_PATTERN = "bad_pattern"  # detail: the pattern, why: what RE2 says about it

    def __init__(self, reason: str, detail: str = "", why: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail
        self.why = why

    @classmethod
    def of(cls, exc: BadMatcher) -> BadSilence:
        if exc.reason:
            return cls(cls.BAD_PATTERN, str(exc), exc.reason)
        return cls(cls.BAD_MATCHER, str(exc))


def parse_silence_args(text: str) -> SilenceRequest:
    """`alertname=CpuHigh instance=~"web-.*" 2h deploy of web` -> matchers, 2 h, the comment."""
    rest = text.strip()
    matchers: list[Matcher] = []
    if rest.startswith("{"):
        end = rest.find("}")
        if end < 0:
            raise BadSilence(BadSilence.BAD_MATCHER, rest)
        try:
            matchers = parse_matchers(rest[: end + 1])
        except BadMatcher as exc:
            raise BadSilence.of(exc) from None
        rest = rest[end + 1 :].strip()
    while rest:
        match = _MATCHER.match(rest)
        if match is None:
            break
        try:
            matchers.append(
                Matcher(match["name"], match["op"], _unquote(match["value"]))  # type: ignore[arg-type]
            )
        except BadMatcher as exc:
            raise BadSilence.of(exc) from None
        rest = rest[match.end() :].lstrip(" ,")
    if not matchers:
        first = rest.split()[0] if rest.split() else ""
        if any(op in first for op in OPS):
            raise BadSilence(BadSilence.BAD_MATCHER, first)
        raise BadSilence(BadSilence.NO_MATCHERS)
    head, _, comment = rest.partition(" ")
    try:
        duration = parse_duration(head)
    except BadDuration:
        if any(op in head for op in OPS):
            raise BadSilence(BadSilence.BAD_MATCHER, head) from None
        raise BadSilence(BadSilence.NO_DURATION, head) from None
    return SilenceRequest(tuple(matchers), duration, comment.strip())
