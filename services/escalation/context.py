"""What every escalation step needs besides the database and the clock: the escalation
rules, the time zone, the staff chats, the desk whose cards follow incidents, and the hook a
new incident's room hangs on. Built once by the assembly (bot/features.py, `make_context`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from services import chats
from services.escalation.policy import EmergencyRules, EscalationRules
from services.escalation.store import Incident
from services.i18n import current_locale
from services.rules import Rules
from services.storage.types import Executor
from services.tickets.config import DeskConfig


class OnOpen(Protocol):
    async def __call__(self, db: Executor, incident: Incident, at: datetime) -> None: ...


@dataclass(frozen=True)
class EscalationContext:
    """What every escalation step needs besides the database and the clock."""

    rules: EscalationRules
    tz: ZoneInfo
    tz_name: str
    admin_chat_id: int | None
    support_chat_id: int | None
    # the desk, whose ticket cards follow their incidents (built by make_context)
    desk: DeskConfig | None = None
    # DEFAULT_LOCALE: a group chat's language until an admin sets one (services.chats)
    default_locale: str | None = None
    # the emergency line's targets and repeats (RULES_FILE `emergency:`)
    emergency: EmergencyRules = field(default_factory=EmergencyRules)
    # called in the transaction that opened an incident (its room: services/rooms)
    on_open: OnOpen | None = None
    # RULES_FILE as read: the sections of features that follow an incident (its resolution
    # tells a customer-facing incident's customers: `mass_incidents`, services/massincident)
    rules_file: Rules | None = None

    async def language_of(self, db: Executor, chat_id: int, person: str | None) -> str | None:
        """A group chat speaks its own language; a private chat its person's (`person`)."""
        if chats.is_private(chat_id):
            return person
        return await chats.chat_language(db, chat_id, self.default_locale or current_locale())

    def desk_config(self) -> DeskConfig:
        """The desk's config (one built from this context's own fields when none was given)."""
        if self.desk is not None:
            return self.desk
        built = DeskConfig.build(
            support_chat_id=self.support_chat_id,
            timezone=self.tz_name,
            staff_locale=current_locale(),
        )
        return replace(built, escalation=self.rules)

    def chat(self, ref: int | str) -> int | None:
        if ref == "admin":
            return self.admin_chat_id
        if ref == "support":
            return self.support_chat_id
        return int(ref)


def make_context(
    rules: Rules,
    *,
    timezone: str,
    admin_chat_id: int | None,
    support_chat_id: int | None,
    default_locale: str | None = None,
) -> EscalationContext:
    """From the settings' values and RULES_FILE (handlers and the worker both build it so)."""
    return EscalationContext(
        rules=rules.section("escalation", EscalationRules),
        tz=ZoneInfo(timezone),
        tz_name=timezone,
        admin_chat_id=admin_chat_id,
        support_chat_id=support_chat_id,
        desk=DeskConfig.build(
            support_chat_id=support_chat_id,
            timezone=timezone,
            staff_locale=default_locale or current_locale(),
            rules=rules,
        ),
        default_locale=default_locale,
        emergency=rules.section("emergency", EmergencyRules),
        rules_file=rules,
    )
