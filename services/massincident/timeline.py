"""The incident timeline's lines for the customer-facing steps (`/timeline`, in the reader's
language): who declared, changed the notice or the match, sent an update, and what the fan-outs
reached."""

from __future__ import annotations

from typing import Any

from services.i18n import gettext as _
from services.text import shorten


def _match(details: dict[str, Any]) -> str:
    if details.get("everyone"):
        return _("everyone who writes")
    words = list(details.get("categories") or []) + [
        f"“{k}”" for k in details.get("keywords") or []
    ]
    return ", ".join(words) or "—"


def describe(kind: str, who: str, details: dict[str, Any]) -> str | None:
    """None: not a customer-facing step."""
    ticket = details.get("ticket") or "?"
    if kind == "public_declared":
        return _("Declared customer-facing by {who} (match: {match})").format(
            who=who, match=_match(details)
        )
    if kind == "public_notice_changed":
        notice = details.get("notice")
        if not notice:
            return _("{who} removed the {language} notice").format(
                who=who, language=details.get("language", "?")
            )
        return _("{who} changed the {language} notice: {notice}").format(
            who=who, language=details.get("language", "?"), notice=shorten(str(notice), 300)
        )
    if kind == "public_match_changed":
        return _("{who} changed the match: {match}").format(who=who, match=_match(details))
    if kind == "public_update":
        line = _("{who} sent an update to {n} customers ({blocked} blocked the bot): {text}")
        return line.format(
            who=who, n=details.get("recipients", 0), blocked=details.get("blocked", 0),
            text=shorten(str(details.get("text") or ""), 300),
        )  # fmt: skip
    if kind == "public_resolved":
        return _(
            "The resolution went to {n} customers ({blocked} blocked the bot); "
            "{links} linked tickets resolved"
        ).format(
            n=details.get("recipients", 0), blocked=details.get("blocked", 0),
            links=details.get("links_resolved", 0),
        )  # fmt: skip
    if kind == "public_link_declined":
        return _(
            "{ticket}: the customer said their problem is different (a ticket of its own)"
        ).format(ticket=ticket)
    if kind == "public_link_accepted":
        return _("{ticket}: the customer said it is this issue and joined it").format(ticket=ticket)
    if kind == "public_link_reopened":
        return _("{ticket}: the customer wrote again after the fix (a ticket of its own)").format(
            ticket=ticket
        )
    return None
