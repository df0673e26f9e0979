"""Long texts: split on line boundaries into messages Telegram accepts, tags kept balanced.

Telegram counts a message's length after parsing (tags do not count, `&lt;` is one
character) in UTF-16 code units. A part ends at the last line break that fits, else at the
last space, else mid-word; the tags open at the cut are closed at the end of the part and
opened again at the start of the next, so every part is well-formed HTML on its own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from services.text import TELEGRAM_TEXT_LIMIT

_TOKEN = re.compile(
    r"<(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?P<rest>[^>]*)>"
    r"|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);"
)


@dataclass(frozen=True)
class _Atom:
    raw: str
    kind: str  # "text", "open", "close"
    length: int = 0  # UTF-16 code units once parsed
    name: str = ""


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _atoms(text: str, markup: bool) -> list[_Atom]:
    if not markup:
        return [_Atom(c, "text", _units(c)) for c in text]
    atoms: list[_Atom] = []
    position = 0
    for match in _TOKEN.finditer(text):
        atoms.extend(_Atom(c, "text", _units(c)) for c in text[position : match.start()])
        raw = match.group(0)
        if match.group("name") is None:  # an entity: one character
            atoms.append(_Atom(raw, "text", sum(_units(c) for c in html.unescape(raw))))
        else:
            kind = "close" if match.group("close") else "open"
            atoms.append(_Atom(raw, kind, 0, match.group("name").lower()))
        position = match.end()
    atoms.extend(_Atom(c, "text", _units(c)) for c in text[position:])
    return atoms


def _pop(stack: list[_Atom], name: str) -> None:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].name == name:
            del stack[index]
            return


def _visible(atoms: list[_Atom]) -> str:
    return "".join(html.unescape(a.raw) if a.kind == "text" else "" for a in atoms)


def split_text(text: str, *, html_mode: bool = True, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` visible units each; one part when the text fits."""
    if len(text.encode("utf-16-le")) // 2 <= limit and (not html_mode or _closes_its_tags(text)):
        return [text]  # fits as it is, and no tag to close: most texts, without the walk
    return _walk(text, html_mode, limit)


def _closes_its_tags(text: str) -> bool:
    """Whether every tag the text opens is closed (as `_walk` pairs them): then a text that
    fits is one part as it is."""
    if "<" not in text:
        return True
    opened: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group("name")
        if name is None:
            continue
        if not match.group("close"):
            opened.append(name.lower())
        elif name.lower() in opened:
            del opened[len(opened) - 1 - opened[::-1].index(name.lower())]
    return not opened


def _walk(text: str, html_mode: bool, limit: int) -> list[str]:
    """split_text the long way: atom by atom, closing and reopening tags at each cut."""
    atoms = _atoms(text, html_mode)
    parts: list[str] = []
    start = 0
    stack: list[_Atom] = []
    while start < len(atoms):
        current = list(stack)
        count = 0
        newline_cut: tuple[int, list[_Atom]] | None = None
        space_cut: tuple[int, list[_Atom]] | None = None
        index = start
        overflow = False
        while index < len(atoms):
            atom = atoms[index]
            if atom.kind == "open":
                current.append(atom)
            elif atom.kind == "close":
                _pop(current, atom.name)
            else:
                if count + atom.length > limit:
                    overflow = True
                    break
                count += atom.length
                if atom.raw == "\n":
                    newline_cut = (index + 1, list(current))
                elif atom.raw == " ":
                    space_cut = (index + 1, list(current))
            index += 1
        if not overflow:
            cut, cut_stack = len(atoms), current
        else:
            cut, cut_stack = newline_cut or space_cut or (index, current)
        body = atoms[start:cut]
        if _visible(body).strip():
            opening = "".join(a.raw for a in stack)
            closing = "".join(f"</{a.name}>" for a in reversed(cut_stack))
            parts.append(opening + "".join(a.raw for a in body) + closing)
        start, stack = cut, cut_stack
    return parts or [text]


SUPPORTED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)


def readable_text(text: str) -> str:
    """HTML Telegram refused, as plain text: its known tags dropped, anything else kept."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(text[position : match.start()])
        name = match.group("name")
        if name is None:
            out.append(html.unescape(match.group(0)))
        elif name.lower() not in SUPPORTED_TAGS:
            out.append(match.group(0))
        position = match.end()
    out.append(text[position:])
    return "".join(out)


def visible_text(text: str, *, html_mode: bool = True) -> str:
    """What a reader sees: tags removed, entities decoded."""
    return _visible(_atoms(text, html_mode)) if html_mode else text


def visible_units(text: str, *, html_mode: bool = True) -> int:
    return sum(a.length for a in _atoms(text, html_mode) if a.kind == "text")


def first_line(text: str, *, html_mode: bool = True, limit: int = 80) -> str:
    """The first non-blank visible line, shortened: what a digest lists for an item."""
    for line in visible_text(text, html_mode=html_mode).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
