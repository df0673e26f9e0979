"""The room's timeline events in words (the escalation timeline asks here for the kinds it does
not know; the postmortem uses the same sentences)."""

from __future__ import annotations

from typing import Any

from services.i18n import gettext as _
from services.text import shorten

ROOM_KINDS = frozenset(
    {
        "room_opened",
        "room_recreated",
        "room_lead",
        "room_comms",
        "room_update",
        "room_note",
        "room_reminder",
        "room_followup",
        "room_followup_done",
        "alert_firing",
        "alert_resolved",
        "postmortem_drafted",
    }
)


def describe(kind: str, who: str, details: dict[str, Any]) -> str | None:
    """One line in the reader's language; None for a kind that is not the room's."""
    text = shorten(str(details.get("text") or ""), 1000)
    if kind == "room_opened":
        return _("Incident room opened")
    if kind == "room_recreated":
        return _("Incident room recreated (its topic was deleted)")
    if kind == "room_lead":
        return _("{name} leads the incident (set by {who})").format(
            name=details.get("name") or "?", who=who
        )
    if kind == "room_comms":
        return _("{name} writes the customer-facing updates (set by {who})").format(
            name=details.get("name") or "?", who=who
        )
    if kind == "room_update":
        return _("Update by {who}: {text}").format(who=who, text=text)
    if kind == "room_note":
        if details.get("source") == "pin":
            return _("📌 {who}: {text}").format(who=who, text=text)
        return _("Note by {who}: {text}").format(who=who, text=text)
    if kind == "room_reminder":
        names = ", ".join(details.get("names") or []) or "—"
        return _("No update for {minutes} minutes: reminded {names}").format(
            minutes=details.get("minutes", "?"), names=names
        )
    if kind == "room_followup":
        owner = details.get("owner")
        if owner:
            return _("Follow-up by {who} for {owner}: {text}").format(
                who=who, owner=owner, text=text
            )
        return _("Follow-up by {who}: {text}").format(who=who, text=text)
    if kind == "room_followup_done":
        return _("Follow-up done ({who}): {text}").format(who=who, text=text)
    if kind == "alert_firing":
        return _("Alert {alert} firing").format(alert=details.get("alert") or "?")
    if kind == "alert_resolved":
        return _("Alert {alert} resolved").format(alert=details.get("alert") or "?")
    if kind == "postmortem_drafted":
        return _("Postmortem draft posted")
    return None
