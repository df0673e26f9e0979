"""The one escaping helper, the 4096-character rule, and what PostgreSQL can store.

Every piece of text the bot did not write itself (a customer's words, an alert's labels, a
query from pg_stat_activity) passes through `esc` before it enters an HTML message, and through
`storable` before it enters PostgreSQL: a `text` or `jsonb` value cannot hold NUL (U+0000) or a
lone UTF-16 surrogate (U+D800-U+DFFF, which JSON's `\ud800` escapes can produce), and one such
character would otherwise make the whole message fail to store.
"""

from __future__ import annotations

import html
import re
import unicodedata

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def esc(value: object) -> str:
    """Escape for Telegram's HTML parse mode (&, < and >; quotes are harmless there)."""
    return html.escape(str(value), quote=False)


def shorten(value: str, limit: int, marker: str = "…") -> str:
    """Trim plain text to `limit` characters (code points, as Telegram counts names and titles),
    saying it was trimmed; never inside an emoji or a letter with its accents (see `cut`)."""
    if len(value) <= limit:
        return value
    return cut(value, max(0, limit - len(marker))) + marker


def cut(value: str, limit: int) -> str:
    """At most `limit` code points of `value`, ending on a boundary a reader sees: never between
    a letter and its combining accents, an emoji and its skin tone or variation selector, the
    two halves of a flag, the members of a ZWJ sequence (👨‍👩‍👧) or a keycap (1️⃣). A Python
    string holds whole code points, so a surrogate pair is never split either."""
    if len(value) <= limit:
        return value
    end = max(0, limit)
    while end > 0 and _joined(value, end):
        end -= 1
    return value[:end]


_ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """Grapheme_Cluster_Break=Extend/SpacingMark/ZWJ (the part of UAX #29 emoji and accents
    need): combining marks, ZWJ, variation selectors, emoji modifiers, tag characters."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _joined(value: str, index: int) -> bool:
    """True when a cut before value[index] would split a grapheme cluster."""
    before, after = value[index - 1], value[index]
    if _extends(after) or before == _ZWJ:
        return True
    if before == "\r" and after == "\n":
        return True
    if _regional(before) and _regional(after):
        run = 0  # regional indicators pair up from the start of their run
        while index - 1 - run >= 0 and _regional(value[index - 1 - run]):
            run += 1
        return run % 2 == 1
    return False


def visible_length(html_text: str) -> int:
    """Length of an HTML message after Telegram parses it, in UTF-16 code units."""
    text = _strip_tags(html_text)
    return len(html.unescape(text).encode("utf-16-le")) // 2


def _strip_tags(html_text: str) -> str:
    out: list[str] = []
    inside = False
    for char in html_text:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)


def echo(value: str, limit: int = 80) -> str:
    """A person's own words quoted back in an answer ("there is no check called …"): escaped and
    trimmed, so 5,000 characters of input cannot make the answer too long for Telegram."""
    return esc(shorten(" ".join(value.split()), limit))


def storable(value: str) -> str:
    """What PostgreSQL can hold of a text: NUL removed, lone surrogates replaced by U+FFFD
    (a surrogate pair that arrived split in two is joined), everything else kept."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable(text)


def unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store the text as it is (None: it can), for refusals."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return f"contains a lone surrogate (\\u{ord(found.group()):04x})"
