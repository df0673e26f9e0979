"""THE permission table (services/staff.py checks people against it and re-exports every name
here, so `from services.staff import Action, COMMANDS` is how the rest of the bot reads it):

- `PERMISSIONS`: every privileged action (its value is the name the audit log records) and the
  roles that may do it. Actions in `OWNER_MAY` are also allowed to the ticket's own customer.
- `COMMANDS`: every privileged command, the action a bare use of it needs (a first word in
  `subcommands` needs a stronger one), and the kinds of chat where it applies.
- `BUTTONS`: every privileged button family (its callback data prefix), each press (its `act`)
  and the action it needs.

A new action, command or button is added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from services.users import ENGINEER_ROLES, Role


class Action(StrEnum):
    # incidents and escalation (services/escalation)
    RAISE_INCIDENT = "incident.raise"
    VIEW_INCIDENTS = "incident.view"
    ACKNOWLEDGE = "incident.acknowledge"
    ESCALATE = "incident.escalate"
    RESOLVE = "incident.resolve"
    # the roster (handlers/admin.py)
    VIEW_ROSTER = "roster.view"
    CHANGE_ROSTER = "roster.change"
    # the support desk, staff side (services/tickets/actions.py)
    ANSWER_TICKET = "ticket.answer"
    LIST_TICKETS = "ticket.list"
    ACKNOWLEDGE_TICKET = "ticket.acknowledge"
    PRIORITIZE_TICKET = "ticket.priority"
    ASSIGN_TICKET = "ticket.assign"
    RESOLVE_TICKET = "ticket.resolve"
    CLOSE_TICKET = "ticket.close"
    BAN_CUSTOMER = "ticket.ban"
    UNBAN_CUSTOMER = "ticket.unban"
    # the support desk, a customer's own ticket (its buttons in the private chat)
    VIEW_TICKET = "ticket.view"
    RATE_TICKET = "ticket.rate"
    CHOOSE_TICKET = "ticket.choose"  # "which ticket is this message for?"
    # alerts (services/alerts/actions.py)
    VIEW_ALERTS = "alerts.view"
    ACKNOWLEDGE_ALERT = "alerts.ack"
    SILENCE_ALERTS = "alerts.silence"
    UNSILENCE_ALERTS = "alerts.unsilence"
    ESCALATE_ALERT = "alerts.esc"
    RESOLVE_ALERT = "alerts.res"
    MAINTENANCE_WINDOW = "alerts.maintenance"
    # checks, backups, maintenance jobs and reports
    VIEW_HEALTH = "health.view"
    VIEW_BACKUPS = "backups.view"
    VIEW_JOBS = "jobs.view"
    RUN_JOBS = "jobs.run"
    VIEW_REPORTS = "reports.view"
    # a group chat's one language (/language in the chat, handlers/start.py)
    SET_CHAT_LANGUAGE = "chat.language"
    # heartbeats (services/heartbeats)
    VIEW_HEARTBEATS = "heartbeats.view"
    MANAGE_HEARTBEATS = "heartbeats.manage"
    # on-call schedules (services/oncall, handlers/oncall.py)
    EDIT_ROTATION = "oncall.rotation"
    OVERRIDE_SELF = "oncall.override"  # hand one's own shifts to someone (or fill a gap)
    OVERRIDE_OTHERS = "oncall.override_others"  # change anyone's shifts
    SWAP_SHIFTS = "oncall.swap"
    CALENDAR = "oncall.calendar"
    NOTIFY_RULES = "oncall.notify"  # how one is reached for a page
    # the emergency line (services/escalation/emergency.py): /sos and the provider's webhook
    SOS = "emergency.sos"
    EMERGENCY_CALL = "emergency.webhook"
    # quarterly deep maintenance (services/quarterly)
    VIEW_QUARTER = "quarter.view"
    TICK_QUARTER = "quarter.tick"
    # incident rooms, postmortems and insights (services/rooms, services/postmortem,
    # services/insights; handlers/rooms.py)
    ROOM_LEAD = "room.lead"  # take the lead, or give it to someone (/lead @maya)
    ROOM_COMMS = "room.comms"
    ROOM_UPDATE = "room.update"
    ROOM_NOTE = "room.note"  # /note and a 📌 reaction on a room message
    ROOM_FOLLOWUP = "room.followup"
    VIEW_FOLLOWUPS = "room.followups"
    POSTMORTEM = "room.postmortem"
    VIEW_INSIGHTS = "insights.view"
    # customer-facing incidents (services/massincident, handlers/mass_incident.py)
    DECLARE_PUBLIC = "incident.public"  # declare, edit the notice and the match, a proposal
    PUBLIC_UPDATE = "incident.update"  # /update: a status update to every linked customer
    LINK_CHOICE = "incident.link"  # a linked customer's own answer to the notice


ALL_STAFF = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})
NOBODY: frozenset[Role] = frozenset()  # only the ticket's own customer (OWNER_MAY)
SUPPORT_AND_ENGINEERS = frozenset({Role.SUPPORT_ENGINEER}) | ENGINEER_ROLES
ALERT_RESPONDERS = ALL_STAFF - {Role.PRODUCT}
ALERT_OPERATORS = ENGINEER_ROLES | {Role.SECURITY, Role.SUPPORT_ENGINEER}

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.RAISE_INCIDENT: ALL_STAFF,
    Action.VIEW_INCIDENTS: ALL_STAFF,
    Action.ACKNOWLEDGE: ALL_STAFF,
    Action.ESCALATE: ALL_STAFF,
    Action.RESOLVE: ENGINEER_ROLES,  # engineers and up, never support alone
    Action.VIEW_ROSTER: ALL_STAFF,
    Action.CHANGE_ROSTER: ADMINS,
    Action.SET_CHAT_LANGUAGE: ADMINS,
    Action.ANSWER_TICKET: SUPPORT_AND_ENGINEERS,
    Action.LIST_TICKETS: ALL_STAFF,
    Action.ACKNOWLEDGE_TICKET: ALL_STAFF,
    Action.PRIORITIZE_TICKET: ALL_STAFF,
    Action.ASSIGN_TICKET: ALL_STAFF,
    Action.RESOLVE_TICKET: ALL_STAFF,
    Action.CLOSE_TICKET: ALL_STAFF,
    Action.BAN_CUSTOMER: ADMINS,
    Action.UNBAN_CUSTOMER: ADMINS,
    Action.VIEW_TICKET: NOBODY,
    Action.RATE_TICKET: NOBODY,
    Action.CHOOSE_TICKET: NOBODY,
    Action.VIEW_ALERTS: ALL_STAFF,
    Action.ACKNOWLEDGE_ALERT: ALERT_RESPONDERS,
    Action.ESCALATE_ALERT: ALERT_RESPONDERS,
    Action.SILENCE_ALERTS: ALERT_OPERATORS,
    Action.UNSILENCE_ALERTS: ALERT_OPERATORS,
    Action.RESOLVE_ALERT: ENGINEER_ROLES | {Role.SECURITY},
    Action.MAINTENANCE_WINDOW: ENGINEER_ROLES,
    Action.VIEW_HEALTH: ALL_STAFF,
    Action.VIEW_BACKUPS: ALL_STAFF,
    Action.VIEW_JOBS: ALL_STAFF,
    Action.RUN_JOBS: ADMINS,
    Action.VIEW_REPORTS: ALL_STAFF,
    Action.VIEW_HEARTBEATS: ALL_STAFF,
    Action.MANAGE_HEARTBEATS: ENGINEER_ROLES,
    Action.EDIT_ROTATION: ADMINS,
    Action.OVERRIDE_SELF: ALL_STAFF,
    Action.OVERRIDE_OTHERS: ADMINS,
    Action.SWAP_SHIFTS: ALL_STAFF,
    Action.CALENDAR: ALL_STAFF,
    Action.NOTIFY_RULES: ALL_STAFF,
    Action.SOS: ALL_STAFF,
    Action.EMERGENCY_CALL: NOBODY,  # the provider, checked by its signature, not a person
    Action.VIEW_QUARTER: ALL_STAFF,
    Action.TICK_QUARTER: ALL_STAFF - {Role.PRODUCT},  # the task's owner role, checked too
    Action.ROOM_LEAD: ALERT_RESPONDERS,
    Action.ROOM_COMMS: ALERT_RESPONDERS,
    Action.ROOM_UPDATE: ALERT_RESPONDERS,
    Action.ROOM_NOTE: ALL_STAFF,
    Action.ROOM_FOLLOWUP: ALL_STAFF,
    Action.VIEW_FOLLOWUPS: ALL_STAFF,
    Action.POSTMORTEM: ENGINEER_ROLES | {Role.MANAGEMENT},
    Action.VIEW_INSIGHTS: ALL_STAFF,
    Action.DECLARE_PUBLIC: ENGINEER_ROLES,  # what customers read: engineers and up
    Action.PUBLIC_UPDATE: ENGINEER_ROLES,
    Action.LINK_CHOICE: NOBODY,
}

# What a ticket's own customer may do to it, whatever their roles.
OWNER_MAY = frozenset(
    {
        Action.VIEW_TICKET,
        Action.RATE_TICKET,
        Action.CHOOSE_TICKET,
        Action.CLOSE_TICKET,
        Action.LINK_CHOICE,
    }
)


class ChatKind(StrEnum):
    ADMIN = "admin"  # ADMIN_CHAT_ID
    SUPPORT = "support"  # SUPPORT_CHAT_ID, or the supergroup it migrated to
    PRIVATE = "private"  # a person's private chat with the bot
    INCIDENTS = "incidents"  # INCIDENT_CHAT_ID: the incident rooms (one topic per incident)
    OTHER = "other"  # any other group: no privileged command applies there


ADMIN_SIDE = frozenset({ChatKind.ADMIN, ChatKind.PRIVATE})
SUPPORT_SIDE = frozenset({ChatKind.SUPPORT})
# A room lives in the incidents chat, or in the admin chat when INCIDENT_CHAT_ID is unset.
ROOM_SIDE = frozenset({ChatKind.INCIDENTS, ChatKind.ADMIN})


@dataclass(frozen=True)
class CommandRule:
    action: Action  # what a bare use needs; a refusal is audited under its name
    chats: frozenset[ChatKind]
    subcommands: Mapping[str, Action] = field(default_factory=dict)  # first word -> action
    # a command that means something else in one kind of chat: its action there
    in_chat: Mapping[ChatKind, Action] = field(default_factory=dict)

    def action_for(self, args: str | None, chat: ChatKind | None = None) -> Action:
        bare = self.in_chat.get(chat, self.action) if chat is not None else self.action
        words = (args or "").split(maxsplit=1)
        return self.subcommands.get(words[0].lower(), bare) if words else bare


# The command menus (handlers/__init__.py) put the admin commands in the admin chat and the
# support commands in the support group; staff also use their private chats with the bot.
COMMANDS: dict[str, CommandRule] = {
    "health": CommandRule(Action.VIEW_HEALTH, ADMIN_SIDE),
    "backupstatus": CommandRule(Action.VIEW_BACKUPS, ADMIN_SIDE),
    "alerts": CommandRule(Action.VIEW_ALERTS, ADMIN_SIDE),
    "silence": CommandRule(Action.SILENCE_ALERTS, ADMIN_SIDE),
    "silences": CommandRule(Action.VIEW_ALERTS, ADMIN_SIDE),
    "unsilence": CommandRule(Action.UNSILENCE_ALERTS, ADMIN_SIDE),
    "maintenance": CommandRule(
        Action.VIEW_ALERTS,
        ADMIN_SIDE,
        {"start": Action.MAINTENANCE_WINDOW, "stop": Action.MAINTENANCE_WINDOW},
    ),
    "incidents": CommandRule(Action.VIEW_INCIDENTS, ADMIN_SIDE),
    "incident": CommandRule(
        Action.RAISE_INCIDENT,
        ADMIN_SIDE | SUPPORT_SIDE,
        {
            "public": Action.DECLARE_PUBLIC,
            "notice": Action.DECLARE_PUBLIC,
            "match": Action.DECLARE_PUBLIC,
        },
    ),
    "timeline": CommandRule(Action.VIEW_INCIDENTS, ADMIN_SIDE | ROOM_SIDE),
    "escalate": CommandRule(Action.ESCALATE, ADMIN_SIDE | SUPPORT_SIDE),
    "jobs": CommandRule(Action.VIEW_JOBS, ADMIN_SIDE),
    "runjob": CommandRule(Action.RUN_JOBS, ADMIN_SIDE),
    "report": CommandRule(Action.VIEW_REPORTS, ADMIN_SIDE),
    "staff": CommandRule(
        Action.VIEW_ROSTER,
        ADMIN_SIDE,
        {"add": Action.CHANGE_ROSTER, "remove": Action.CHANGE_ROSTER},
    ),
    "oncall": CommandRule(
        Action.VIEW_ROSTER,
        ADMIN_SIDE,
        {
            "set": Action.CHANGE_ROSTER,
            "cover": Action.OVERRIDE_SELF,
            "cancel": Action.OVERRIDE_SELF,
            "swap": Action.SWAP_SHIFTS,
            "calendar": Action.CALENDAR,
            "notify": Action.NOTIFY_RULES,
        },
    ),
    "rotation": CommandRule(
        Action.VIEW_ROSTER,
        ADMIN_SIDE,
        {"set": Action.EDIT_ROTATION, "add": Action.EDIT_ROTATION, "off": Action.EDIT_ROTATION},
    ),
    "tickets": CommandRule(Action.LIST_TICKETS, SUPPORT_SIDE),
    "assign": CommandRule(Action.ASSIGN_TICKET, SUPPORT_SIDE),
    "priority": CommandRule(Action.PRIORITIZE_TICKET, SUPPORT_SIDE),
    "close": CommandRule(Action.CLOSE_TICKET, SUPPORT_SIDE),
    "ban": CommandRule(Action.BAN_CUSTOMER, SUPPORT_SIDE),
    "unban": CommandRule(Action.UNBAN_CUSTOMER, SUPPORT_SIDE),
    "heartbeats": CommandRule(Action.VIEW_HEARTBEATS, ADMIN_SIDE),
    "heartbeat": CommandRule(
        Action.VIEW_HEARTBEATS,
        ADMIN_SIDE,
        {
            "add": Action.MANAGE_HEARTBEATS,
            "remove": Action.MANAGE_HEARTBEATS,
            "pause": Action.MANAGE_HEARTBEATS,
            "resume": Action.MANAGE_HEARTBEATS,
        },
    ),
    "sos": CommandRule(Action.SOS, ADMIN_SIDE | SUPPORT_SIDE),
    "quarter": CommandRule(Action.VIEW_QUARTER, ADMIN_SIDE),
    "lead": CommandRule(Action.ROOM_LEAD, ROOM_SIDE),
    "comms": CommandRule(Action.ROOM_COMMS, ROOM_SIDE),
    # an internal update in a room; in a customer-facing incident's topic of the support group,
    # a status update to every linked customer (issue 16)
    "update": CommandRule(
        Action.ROOM_UPDATE,
        ROOM_SIDE | SUPPORT_SIDE,
        in_chat={ChatKind.SUPPORT: Action.PUBLIC_UPDATE},
    ),
    "note": CommandRule(Action.ROOM_NOTE, ROOM_SIDE),
    "followup": CommandRule(Action.ROOM_FOLLOWUP, ROOM_SIDE),
    "followups": CommandRule(Action.VIEW_FOLLOWUPS, ADMIN_SIDE | ROOM_SIDE),
    "postmortem": CommandRule(Action.POSTMORTEM, ADMIN_SIDE | ROOM_SIDE),
    "insights": CommandRule(Action.VIEW_INSIGHTS, ADMIN_SIDE | ROOM_SIDE),
}

# Commands anyone may use anywhere: the customer's menu, help, language, leaving a conversation,
# linking their own e-mail address (private chat only).
PUBLIC_COMMANDS = frozenset({"start", "help", "language", "cancel", "email", "status"})

# Button families: callback data prefix -> the press (`act`, "" for a family of one) -> action.
BUTTONS: dict[str, dict[str, Action]] = {
    "tk": {
        "ack": Action.ACKNOWLEDGE_TICKET,
        "pri": Action.PRIORITIZE_TICKET,
        "back": Action.PRIORITIZE_TICKET,
        "esc": Action.ESCALATE,
        "res": Action.RESOLVE_TICKET,
    },
    "tp": {"": Action.PRIORITIZE_TICKET},
    "inc": {
        "ack": Action.ACKNOWLEDGE,
        "esc": Action.ESCALATE,
        "res": Action.RESOLVE,
        "pub": Action.DECLARE_PUBLIC,
    },
    "al": {
        "ack": Action.ACKNOWLEDGE_ALERT,
        "s1": Action.SILENCE_ALERTS,
        "s4": Action.SILENCE_ALERTS,
        "s24": Action.SILENCE_ALERTS,
        "esc": Action.ESCALATE_ALERT,
        "res": Action.RESOLVE_ALERT,
    },
    # the storm message (services/alerts/storm_actions.py): a group's details, Acknowledge all
    "st": {"det": Action.VIEW_ALERTS, "ack": Action.ACKNOWLEDGE_ALERT, "back": Action.VIEW_ALERTS},
    "hc": {"": Action.VIEW_HEALTH},
    "bs": {"": Action.VIEW_BACKUPS},
    "mj": {"run": Action.RUN_JOBS, "no": Action.RUN_JOBS, "retry": Action.RUN_JOBS},
    "tc": {"view": Action.VIEW_TICKET, "close": Action.CLOSE_TICKET},
    "tr": {"": Action.RATE_TICKET},
    "tw": {"": Action.CHOOSE_TICKET},
    "rot": {"save": Action.EDIT_ROTATION, "drop": Action.EDIT_ROTATION},
    "osw": {"yes": Action.SWAP_SHIFTS, "no": Action.SWAP_SHIFTS},
    "ocv": {"shift": Action.OVERRIDE_SELF, "who": Action.OVERRIDE_SELF},
    "qt": {"tick": Action.TICK_QUARTER, "undo": Action.TICK_QUARTER},
    "mn": {
        "diff": Action.LINK_CHOICE,
        "ok": Action.LINK_CHOICE,
        "link": Action.LINK_CHOICE,
        "no": Action.LINK_CHOICE,
        "again": Action.LINK_CHOICE,
        "fine": Action.LINK_CHOICE,
    },
    "mr": {"": Action.RATE_TICKET},
    "mp": {"decl": Action.DECLARE_PUBLIC, "no": Action.DECLARE_PUBLIC},
    "mc": {"res": Action.RESOLVE, "upd": Action.PUBLIC_UPDATE},
    # a room update offered to the customers (services/rooms/offers.py)
    "ro": {"send": Action.PUBLIC_UPDATE, "int": Action.ROOM_UPDATE},
}

# Buttons that carry nothing of anyone else's: the customer's menu, new-ticket steps, language.
PUBLIC_BUTTONS = frozenset({"sm", "nc", "nk", "lang"})
