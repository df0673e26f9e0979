"""Button callback data: one codec per button family, used by the side that builds the button
(a service's renderer, or a handler) and the side that reads the press (a handler's filter).

A family is a prefix and a frozen dataclass of what a press carries:

    @button("tk")
    @dataclass(frozen=True)
    class TicketAction(Button):
        id: int
        act: Literal["ack", "pri", "esc", "res", "back"]

    TicketAction(5, "res").pack()        # "tk:5:res"
    TicketAction.parse("tk:5:res")       # TicketAction(id=5, act="res"); None for anything else

Handlers read presses with `handlers.buttons.Press(TicketAction)`, which wraps `parse`.

The text is aiogram's `CallbackData` format (`prefix:value:value`), so buttons already sent
keep working. Field types are `int` (a PostgreSQL bigint), a `Literal` of words, a `StrEnum`,
or `Annotated[str | int, Longest(n)]`. Telegram refuses callback data over 64 bytes: `button()`
packs the longest press a family can carry and refuses to define one that could exceed it, so
the limit is checked once, when the module defining the family is imported.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

MAX_BYTES = 64  # Telegram's limit on callback_data
SEP = ":"
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

P = TypeVar("P")


class ButtonDataError(ValueError):
    """A press that cannot be packed (a value the family does not carry)."""


@dataclass(frozen=True)
class Longest:
    """`Annotated[str, Longest(40)]`: a free word of at most that many characters;
    `Annotated[int, Longest(12)]`: a whole number >= 0 of at most that many digits."""

    chars: int


@dataclass(frozen=True)
class _Field:
    name: str
    read: Callable[[str], Any]  # text -> value; raises ValueError when it is not one
    longest: str  # the longest text this field can pack to


def _int(text: str) -> int:
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise ValueError(text)
    value = int(text)
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError(text)
    return value


def _digits(chars: int) -> Callable[[str], int]:
    def read(text: str) -> int:
        if not (text.isascii() and text.isdigit()) or len(text) > chars:
            raise ValueError(text)
        return _int(text)

    return read


def _words(words: tuple[str, ...]) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in words:
            raise ValueError(text)
        return text

    return read


def _free(chars: int) -> Callable[[str], str]:
    def read(text: str) -> str:
        if not text or len(text) > chars or SEP in text:
            raise ValueError(text)
        return text

    return read


def _field(name: str, hint: Any) -> _Field:
    origin = typing.get_origin(hint)
    if hint is int:
        return _Field(name, _int, str(BIGINT_MIN))
    if origin is typing.Literal:
        words = tuple(str(w) for w in typing.get_args(hint))
        return _Field(name, _words(words), max(words, key=len))
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        values = tuple(member.value for member in hint)
        enum_type = hint
        return _Field(name, lambda text: enum_type(_words(values)(text)), max(values, key=len))
    if origin is typing.Annotated:
        base, *extras = typing.get_args(hint)
        longest = next((e for e in extras if isinstance(e, Longest)), None)
        if base is str and longest is not None:
            return _Field(name, _free(longest.chars), "x" * longest.chars)
        if base is int and longest is not None and longest.chars < len(str(BIGINT_MAX)):
            return _Field(name, _digits(longest.chars), "9" * longest.chars)
    raise TypeError(f"button field {name}: {hint!r} is not int, Literal, StrEnum or Longest str")


class Family(Generic[P]):
    def __init__(self, prefix: str, press: type[P]) -> None:
        hints = typing.get_type_hints(press, include_extras=True)
        self.prefix = prefix
        self.press = press
        self.fields = tuple(_field(f.name, hints[f.name]) for f in dataclasses.fields(press))  # type: ignore[arg-type]
        self.longest = SEP.join([prefix, *(f.longest for f in self.fields)])
        if len(self.longest.encode()) > MAX_BYTES:
            raise ButtonDataError(f"{prefix}: {self.longest!r} is over {MAX_BYTES} bytes")

    def pack(self, press: P) -> str:
        parts = [self.prefix]
        for spec in self.fields:
            value = getattr(press, spec.name)
            text = str(value.value if isinstance(value, enum.Enum) else value)
            try:
                spec.read(text)
            except ValueError:
                raise ButtonDataError(f"{self.prefix}.{spec.name}: {text!r}") from None
            parts.append(text)
        return SEP.join(parts)

    def parse(self, data: str | None) -> P | None:
        """The press, or None for data of another family, stale or forged."""
        if not data:
            return None
        prefix, *parts = data.split(SEP)
        if prefix != self.prefix or len(parts) != len(self.fields):
            return None
        try:
            values = {
                spec.name: spec.read(text) for spec, text in zip(self.fields, parts, strict=True)
            }
        except ValueError:
            return None
        return self.press(**values)


FAMILIES: dict[str, Family[Any]] = {}

B = TypeVar("B", bound="Button")


class Button:
    """What every press dataclass of a family is (the family is attached by `button`)."""

    FAMILY: ClassVar[Family[Any]]

    def pack(self) -> str:
        return type(self).FAMILY.pack(self)

    @classmethod
    def parse(cls: type[B], data: str | None) -> B | None:
        parsed: B | None = cls.FAMILY.parse(data)
        return parsed


def button(prefix: str) -> Callable[[type[B]], type[B]]:
    """Define a button family (once per prefix, for the whole bot) from its press dataclass."""

    def define(press: type[B]) -> type[B]:
        if SEP in prefix or prefix in FAMILIES:
            raise ButtonDataError(f"button prefix {prefix!r} is taken or malformed")
        FAMILIES[prefix] = press.FAMILY = Family(prefix, press)
        return press

    return define
