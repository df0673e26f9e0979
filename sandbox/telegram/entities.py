"""Telegram's text formatting: HTML and MarkdownV2 parse modes to plain text + entities.

Follows TDLib's parser (what the Bot API runs): the same tags, the same error texts, offsets
and lengths in UTF-16 code units. One deliberate strictness: a bare ``&`` that does not start
an entity is refused (TDLib lets it through), because a bot that forgets to escape ``&`` will
forget ``<`` next; switch it off with ``strict_ampersand=False``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

PARSE_ERROR = "can't parse entities: "

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The text cannot be parsed; ``str(error)`` is Telegram's text after "Bad Request: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(PARSE_ERROR + detail)


@dataclass
class Parsed:
    text: str
    entities: list[Entity] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class _Open:
    name: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None


class TextBuilder:
    """Collects plain text while counting UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.u16 += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


def byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")


def _decode_entity(source: str, i: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(source, i)
    if not match:
        return None
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), match.end()
    return html.unescape(match.group(0)), match.end()


def parse_html(source: str, *, strict_ampersand: bool = True) -> Parsed:
    out = TextBuilder()
    stack: list[_Open] = []
    entities: list[Entity] = []
    n = len(source)
    i = 0
    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_entity(source, i)
            if decoded is None:
                if strict_ampersand:
                    raise EntityParseError(
                        f'Character "&" at byte offset {byte_offset(source, i)} '
                        'must be escaped as "&amp;"'
                    )
                decoded = ("&", i + 1)
            out.add(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            out.add(char)
            i += 1
            continue
        begin = i
        if i + 1 < n and source[i + 1] == "/":
            i = _close_tag(source, begin, stack, entities, out.u16)
        else:
            i, opened = _open_tag(source, begin)
            stack.append(_Open(opened[0], out.u16, opened[1]))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return finish(out.text(), entities)


def _skip_spaces(source: str, j: int) -> int:
    while j < len(source) and source[j].isspace():
        j += 1
    return j


def _open_tag(source: str, begin: int) -> tuple[int, tuple[str, dict[str, str]]]:
    n = len(source)
    j = begin + 1
    while j < n and not source[j].isspace() and source[j] != ">":
        j += 1
    if j >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(source, begin)}")
    name = source[begin + 1 : j].lower()
    if name not in _TAG_TYPES:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {byte_offset(source, begin)}'
        )
    attrs: dict[str, str] = {}
    while True:
        j = _skip_spaces(source, j)
        if j >= n:
            raise EntityParseError(
                f'Unclosed start tag "{name}" at byte offset {byte_offset(source, begin)}'
            )
        if source[j] == ">":
            break
        start = j
        while j < n and not source[j].isspace() and source[j] not in "=>":
            j += 1
        attr = source[start:j].lower()
        if not attr:
            raise EntityParseError(
                f'Empty attribute name in the tag "{name}" at byte offset '
                f"{byte_offset(source, begin)}"
            )
        j = _skip_spaces(source, j)
        if j >= n or source[j] != "=":
            attrs[attr] = ""
            continue
        j = _skip_spaces(source, j + 1)
        if j >= n:
            raise EntityParseError(
                f'Unclosed start tag "{name}" at byte offset {byte_offset(source, begin)}'
            )
        value, j = _attr_value(source, j)
        attrs[attr] = value
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(source, begin)}'
        )
    return j + 1, (name, attrs)


def _attr_value(source: str, j: int) -> tuple[str, int]:
    n = len(source)
    quote = source[j]
    if quote not in "'\"":
        start = j
        while j < n and (source[j].isalnum() or source[j] in ".-"):
            j += 1
        if j < n and not source[j].isspace() and source[j] != ">":
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {byte_offset(source, start)}"
            )
        return source[start:j].lower(), j
    string_begin = j
    j += 1
    chars: list[str] = []
    while j < n and source[j] != quote:
        if source[j] == "&" and (decoded := _decode_entity(source, j)):
            chars.append(decoded[0])
            j = decoded[1]
            continue
        chars.append(source[j])
        j += 1
    if j >= n:
        raise EntityParseError(
            f"Unclosed start tag at byte offset {byte_offset(source, string_begin)}"
        )
    return "".join(chars), j + 1


def _close_tag(
    source: str, begin: int, stack: list[_Open], entities: list[Entity], end_u16: int
) -> int:
    n = len(source)
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(source, begin)}")
    j = begin + 2
    while j < n and not source[j].isspace() and source[j] != ">":
        j += 1
    end_name = source[begin + 2 : j].lower()
    j = _skip_spaces(source, j)
    if j >= n or source[j] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(source, begin)}")
    opened = stack.pop()
    if end_name and end_name != opened.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {byte_offset(source, begin)}, "
            f'expected "</{opened.name}>", found "</{end_name}>"'
        )
    length = end_u16 - opened.offset
    kind = _TAG_TYPES[opened.name]
    language = opened.attrs.get("class", "")
    if kind == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
        stack[-1].language = language.removeprefix("language-")
        return j + 1
    if length <= 0:
        return j + 1
    entity: Entity = {"type": kind, "offset": opened.offset, "length": length}
    if kind == "text_link":
        url = opened.attrs.get("href", "")
        if not url:
            return j + 1
        entity["url"] = url
    elif kind == "pre" and opened.language:
        entity["language"] = opened.language
    elif kind == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
    entities.append(entity)
    return j + 1


def finish(text: str, entities: list[Entity]) -> Parsed:
    """Trim surrounding whitespace as Telegram does and clip entities to the kept text."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return Parsed(stripped, kept)


# --- entities -> HTML (for messages sent with explicit entities, and for the web page) ----

_HTML_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_html(entity: Entity) -> tuple[str, str]:
    kind = entity["type"]
    if kind in _HTML_TAGS:
        return _HTML_TAGS[kind]
    if kind == "text_link":
        return f'<a href="{html.escape(entity.get("url", ""))}">', "</a>"
    if kind == "pre":
        if entity.get("language"):
            lang = html.escape(entity["language"])
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(entity.get("custom_emoji_id", ""))}">', (
            "</tg-emoji>"
        )
    return "", ""


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Render plain text + entities as Telegram HTML (assumes properly nested entities)."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[Entity]] = {}
    closes: dict[int, list[Entity]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        opens.setdefault(entity["offset"], []).append(entity)
        closes.setdefault(entity["offset"] + entity["length"], []).insert(0, entity)
    parts: list[str] = []
    total = len(units) // 2
    pos = 0
    while pos <= total:
        for entity in closes.get(pos, []):
            parts.append(_open_html(entity)[1])
        for entity in opens.get(pos, []):
            parts.append(_open_html(entity)[0])
        if pos == total:
            break
        step = 2 if 0xD800 <= int.from_bytes(units[pos * 2 : pos * 2 + 2], "little") < 0xDC00 else 1
        parts.append(html.escape(units[pos * 2 : (pos + step) * 2].decode("utf-16-le"), False))
        pos += step
    return "".join(parts)


def validate_entities(text: str, entities: Any) -> list[Entity]:
    """Check user-supplied entities: a list of objects with type/offset/length inside the text."""
    if not isinstance(entities, list):
        raise EntityParseError("entities must be an array")
    total = utf16_len(text)
    result: list[Entity] = []
    for entity in entities:
        if not isinstance(entity, dict) or not {"type", "offset", "length"} <= entity.keys():
            raise EntityParseError("entity must have type, offset and length")
        offset, length = int(entity["offset"]), int(entity["length"])
        if offset < 0 or length <= 0 or offset + length > total:
            continue
        result.append({**entity, "offset": offset, "length": length})
    return result


_AUTO_RE = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{4,32})"
    r"|(?P<hashtag>(?<![\w#])#\w+)"
    r"|(?P<url>https?://[^\s<>\"]+)"
)


def detect_entities(text: str) -> list[Entity]:
    """What the Telegram client/server marks up by itself in a user's message."""
    found: list[Entity] = []
    for match in _AUTO_RE.finditer(text):
        kind = match.lastgroup or "url"
        found.append(
            {
                "type": kind,
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return found
