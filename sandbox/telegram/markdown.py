"""Telegram's MarkdownV2 parse mode to plain text + entities (TDLib's rules, basic markup)."""

from __future__ import annotations

from .entities import Entity, EntityParseError, Parsed, TextBuilder, byte_offset, finish

_RESERVED = set("_*[]()~`>#+-=|{}.!")


def parse_markdown_v2(source: str) -> Parsed:
    out = TextBuilder()
    entities: list[Entity] = []
    stack: list[tuple[str, int, int]] = []  # (delimiter, u16 offset, source index)
    n = len(source)
    i = 0
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and 0 < ord(source[i + 1]) < 127:
            out.add(source[i + 1])
            i += 2
            continue
        if char == "`":
            i = _md_code(source, i, out, entities)
            continue
        if char not in _RESERVED:
            out.add(char)
            i += 1
            continue
        delimiter = char
        if char in "_|" and source.startswith(char * 2, i):
            delimiter = char * 2
        elif char == "|":
            delimiter = ""
        if stack and stack[-1][0] == delimiter and delimiter:
            opened = stack.pop()
            kind = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough"}
            kind |= {"||": "spoiler"}
            if out.u16 > opened[1]:
                entities.append(
                    {"type": kind[delimiter], "offset": opened[1], "length": out.u16 - opened[1]}
                )
            i += len(delimiter)
            continue
        if delimiter in ("*", "_", "__", "~", "||"):
            stack.append((delimiter, out.u16, i))
            i += len(delimiter)
            continue
        if char == "[":
            stack.append(("[", out.u16, i))
            i += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            opened = stack.pop()
            url, i = _md_link_url(source, i + 1)
            if out.u16 > opened[1]:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": opened[1],
                        "length": out.u16 - opened[1],
                        "url": url,
                    }
                )
            continue
        raise EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )
    if stack:
        names = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough"}
        names |= {"||": "Spoiler", "[": "TextUrl"}
        delimiter, _, index = stack[-1]
        raise EntityParseError(
            f"Can't find end of {names[delimiter]} entity at byte offset "
            f"{byte_offset(source, index)}"
        )
    return finish(out.text(), entities)


def _md_code(source: str, i: int, out: TextBuilder, entities: list[Entity]) -> int:
    fence = "```" if source.startswith("```", i) else "`"
    j = i + len(fence)
    language = ""
    if fence == "```":
        newline = source.find("\n", j)
        first_line = source[j:newline] if newline != -1 else ""
        if newline != -1 and first_line and " " not in first_line and "`" not in first_line:
            language = first_line
            j = newline + 1
    start = out.u16
    code, j = _unescaped(source, j, fence, escapable="`\\")
    out.add(code)
    if j >= len(source):
        kind = "Pre" if fence == "```" else "Code"
        raise EntityParseError(
            f"Can't find end of {kind} entity at byte offset {byte_offset(source, i)}"
        )
    if out.u16 > start:
        entity: Entity = {
            "type": "pre" if fence == "```" else "code",
            "offset": start,
            "length": out.u16 - start,
        }
        if language:
            entity["language"] = language
        entities.append(entity)
    return j + len(fence)


def _md_link_url(source: str, j: int) -> tuple[str, int]:
    if j >= len(source) or source[j] != "(":
        return "", j
    url, j = _unescaped(source, j + 1, ")")
    if j >= len(source):
        raise EntityParseError(f"Can't find end of a URL at byte offset {byte_offset(source, j)}")
    return url, j + 1


def _unescaped(source: str, j: int, end: str, *, escapable: str | None = None) -> tuple[str, int]:
    """The text from `j` to the next `end` with its backslash escapes undone (of the characters
    in `escapable`, or of any), and where that `end` stands (`len(source)` if nowhere)."""
    chars: list[str] = []
    while j < len(source) and not source.startswith(end, j):
        escaped = j + 1 < len(source) and (escapable is None or source[j + 1] in escapable)
        if source[j] == "\\" and escaped:
            chars.append(source[j + 1])
            j += 2
            continue
        chars.append(source[j])
        j += 1
    return "".join(chars), j
