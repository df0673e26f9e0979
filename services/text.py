"""The one escaping helper, and the 4096-character rule.

Every piece of text the bot did not write itself (a customer's words, an alert's labels, a
query from pg_stat_activity) passes through `esc` before it enters an HTML message.
"""

from __future__ import annotations

import html

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024


def esc(value: object) -> str:
    """Escape for Telegram's HTML parse mode (&, < and >; quotes are harmless there)."""
    return html.escape(str(value), quote=False)


def shorten(value: str, limit: int, marker: str = "…") -> str:
    """Trim plain text to `limit` characters, saying it was trimmed."""
    if len(value) <= limit:
        return value
    return value[: max(0, limit - len(marker))] + marker


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
