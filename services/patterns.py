"""Regular expressions that came from outside: silences and alert matchers, RULES_FILE shapes.

Python's `re` backtracks: `(a+)+$` against 49 × "a" + "!" runs for hours, on the event loop.
Every pattern a person, a rules file or an alert label supplies is compiled here instead, by
RE2 (the engine Alertmanager uses for the same reason), which matches in time linear in the
text whatever the pattern. RE2 has no backreferences and no lookaround; a pattern it cannot
compile is refused with `BadPattern`, whose `reason` says why in RE2's words.

Patterns match whole values, as Alertmanager's anchored `^(?:pattern)$` does (RE2's full match,
so a pattern like `a)|(b` cannot slip out of the anchors). Compiled patterns are cached: a silence
is matched against every alert on every tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from services.text import storable, unstorable

MAX_LENGTH = 1000  # characters; silences allow fewer (services.alerts.matchers.MAX_REGEX)
MAX_MEMORY = 1 << 20  # bytes RE2 may use for one compiled pattern
ENGINE = "re2"


class BadPattern(ValueError):
    """A regular expression the linear-time engine cannot use."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r} is not a regular expression RE2 can use: {reason}")
        self.pattern = pattern
        self.reason = reason


@dataclass(frozen=True, eq=False)
class Pattern:
    """A compiled pattern: `fullmatch(text)` says whether the whole text matches."""

    source: str
    compiled: Any  # re2._Regexp (the package ships no type hints)

    @property
    def engine(self) -> str:
        return ENGINE

    def fullmatch(self, text: str) -> bool:
        try:
            found = self.compiled.fullmatch(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8
            found = self.compiled.fullmatch(storable(text))
        return found is not None


def compile_pattern(pattern: str) -> Pattern:
    """The pattern compiled by RE2, matched whole; BadPattern if RE2 refuses it."""
    return _compile(pattern)


def check_pattern(pattern: str) -> str:
    """The pattern itself when it compiles (for pydantic validators); BadPattern otherwise."""
    _compile(pattern)
    return pattern


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> Pattern:
    if len(pattern) > MAX_LENGTH:
        raise BadPattern(pattern[:40] + "…", f"longer than {MAX_LENGTH} characters")
    if unstorable(pattern) is not None:
        raise BadPattern(pattern, "not valid Unicode")
    options = re2.Options()
    options.log_errors = False  # refusals are answered, not printed to stderr
    options.max_mem = MAX_MEMORY
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        raise BadPattern(pattern, _reason(exc)) from None
    return Pattern(pattern, compiled)


def _reason(exc: Exception) -> str:
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text or "not a regular expression"
