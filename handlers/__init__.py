"""The routers, in the order the dispatcher tries them, and the command menus.

A privileged command sent where it does not apply (`permissions`, after services.staff.COMMANDS)
is answered and audited before any feature sees it; feature routers come next; `start` (help,
language) after them; the support desk's catch-all (free text offered as a new ticket) and the
fallback for stale buttons last.

The dispatcher takes them as a tree (`tree`): every router but the three that take a customer's
free text sits behind one check (`not_free_text`), so that free text in private, the bulk of a
storm, skips them all with one test instead of one per handler (each a copy of the update's
data).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from services.i18n import N_

CUSTOMER_COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Main menu")),
    ("help", N_("What this bot can do")),
    ("language", N_("Choose your language")),
    ("email", N_("Link your e-mail address")),
    ("status", N_("Known issues right now")),
]

ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("health", N_("Health of QuickCart's systems")),
    ("backupstatus", N_("Latest backups and restore tests")),
    ("alerts", N_("Firing and pending alerts")),
    ("incidents", N_("Open incidents by priority")),
    ("escalate", N_("Escalate a ticket or incident")),
    ("sos", N_("Emergency: page every level at once")),
    ("quarter", N_("This quarter's deep maintenance checklist")),
    ("timeline", N_("Timeline of an incident")),
    ("silence", N_("Silence alerts")),
    ("silences", N_("Active silences")),
    ("maintenance", N_("Maintenance windows")),
    ("jobs", N_("Maintenance jobs and their last results")),
    ("runjob", N_("Run a maintenance job now")),
    ("report", N_("Weekly or monthly report")),
    ("staff", N_("Staff roster")),
    ("oncall", N_("Who is on call")),
    ("heartbeats", N_("Heartbeats of cron jobs and their last pings")),
    ("rotation", N_("On-call rotations")),
    ("followups", N_("Open follow-ups of incidents")),
    ("postmortem", N_("Postmortem draft of an incident")),
    ("insights", N_("Incident and support figures (MTTA, MTTR, SLA, CSAT)")),
    ("help", N_("What this bot can do")),
]

# The incidents chat (INCIDENT_CHAT_ID): the commands of a room.
ROOM_COMMANDS: list[tuple[str, str]] = [
    ("lead", N_("Take the lead of this incident (or /lead @name)")),
    ("comms", N_("Who writes the customer-facing updates (/comms @name)")),
    ("update", N_("Post a status update")),
    ("note", N_("Put a note on the timeline")),
    ("followup", N_("Record a follow-up action item")),
    ("followups", N_("Open follow-ups of incidents")),
    ("timeline", N_("Timeline of this incident")),
    ("postmortem", N_("Postmortem draft of this incident")),
    ("insights", N_("Incident and support figures (MTTA, MTTR, SLA, CSAT)")),
]

SUPPORT_COMMANDS: list[tuple[str, str]] = [
    ("tickets", N_("Open tickets by priority")),
    ("assign", N_("Assign this ticket")),
    ("priority", N_("Change this ticket's priority")),
    ("escalate", N_("Escalate this ticket")),
    ("update", N_("Tell every affected customer (in a customer-facing incident's topic)")),
    ("close", N_("Close this ticket")),
    ("ban", N_("Ban this customer")),
    ("unban", N_("Unban a customer")),
    ("help", N_("What this bot can do")),
]


def routers() -> list[Router]:
    """Every router, in the order the dispatcher tries them."""
    return [*_commands_and_steps(), *_free_text()]


def tree() -> list[Router]:
    """`routers()` as the dispatcher includes them (same order): the commands and steps behind
    `not_free_text`."""
    first = Router(name="handlers.commands_and_steps")
    first.message.filter(not_free_text)
    first.include_routers(*_commands_and_steps())
    return [first, *_free_text()]


async def not_free_text(message: Message, raw_state: str | None = None) -> bool:
    """Whether a message can be for `_commands_and_steps`: every handler there wants a command,
    a step of a conversation (an FSM state) or a group (tests/unit/test_routes_inline.py)."""
    if message.chat.type != "private" or raw_state is not None:
        return True
    return (message.text or message.caption or "").startswith("/")


def _commands_and_steps() -> list[Router]:
    from handlers import (
        admin,
        alerts,
        alerts_storm,
        backups,
        email_link,
        emergency,
        errors,
        escalation,
        fallback,
        health,
        heartbeats,
        insights,
        jobs,
        mass_incident,
        mass_incident_customers,
        new_ticket,
        oncall,
        oncall_cover,
        permissions,
        quarterly,
        relay,
        rooms,
        rotation,
        start,
        support,
        tickets_staff,
    )

    return [
        permissions.router.build(),
        # /update in a customer-facing incident's topic, before the rooms' "only in a room"
        mass_incident.router.build(),
        rooms.router.build(),
        insights.router.build(),
        jobs.router.build(),
        alerts.router.build(),
        alerts_storm.router.build(),
        escalation.router.build(),
        emergency.router.build(),
        quarterly.router.build(),
        tickets_staff.router.build(),
        admin.router.build(),
        oncall.router.build(),
        oncall_cover.router.build(),
        rotation.router.build(),
        health.router.build(),
        backups.router.build(),
        heartbeats.router.build(),
        mass_incident_customers.customer.build(),
        support.router.build(),
        new_ticket.router.build(),
        email_link.router.build(),
        relay.router.build(),
        start.router.build(),
        rooms.talk.build(),
        errors.router.build(),
        fallback.router.build(),
    ]


def _free_text() -> list[Router]:
    """A customer's free message in private: a short text into their one open ticket in one
    statement first (relay.first), then the mass-incident side, then the desk."""
    from handlers import mass_incident_customers, relay

    return [relay.first.build(), mass_incident_customers.catch.build(), relay.catch_all.build()]
