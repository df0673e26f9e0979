"""Who may do what, where: one permission table for the whole bot (the roster itself, who holds
which role and who is on call, is services/roster.py). The table is services/staff_table.py
(`PERMISSIONS`, `COMMANDS`, `BUTTONS` and their names); every name of it is importable from here.

`require` checks a person against it and audits the refusal, so every door says so in one line;
`handlers.permissions` answers and audits a privileged command sent where it does not apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

from services import audit
from services.staff_table import (
    ADMIN_SIDE,
    ADMINS,
    ALERT_OPERATORS,
    ALERT_RESPONDERS,
    ALL_STAFF,
    BUTTONS,
    COMMANDS,
    NOBODY,
    OWNER_MAY,
    PERMISSIONS,
    PUBLIC_BUTTONS,
    PUBLIC_COMMANDS,
    ROOM_SIDE,
    SUPPORT_AND_ENGINEERS,
    SUPPORT_SIDE,
    Action,
    ChatKind,
    CommandRule,
)
from services.storage.types import Executor
from services.users import Person

__all__ = [
    "ADMINS",
    "ADMIN_SIDE",
    "ALERT_OPERATORS",
    "ALERT_RESPONDERS",
    "ALL_STAFF",
    "BUTTONS",
    "COMMANDS",
    "NOBODY",
    "OWNER_MAY",
    "PERMISSIONS",
    "PUBLIC_BUTTONS",
    "PUBLIC_COMMANDS",
    "ROOM_SIDE",
    "SUPPORT_AND_ENGINEERS",
    "SUPPORT_SIDE",
    "Action",
    "ChatKind",
    "CommandRule",
    "NotAllowed",
    "done",
    "may",
    "may_person",
    "refuse",
    "require",
]


class NotAllowed(Exception):
    """The person's roles do not permit the action (already audited)."""

    def __init__(self, action: Action) -> None:
        super().__init__(action.value)
        self.action = action


def may(roles: Iterable[str], action: Action) -> bool:
    return bool(PERMISSIONS[action].intersection(roles))


def may_person(
    person: Person | None, action: Action, *, owner_id: int | None = None
) -> TypeGuard[Person]:
    """`may` for a person; `owner_id` is the customer of the ticket the action is about."""
    if person is None:
        return False
    if owner_id is not None and person.id == owner_id and action in OWNER_MAY:
        return True
    return may(person.roles, action)


async def done(
    db: Executor,
    person: Person | None,
    action: Action | str,
    *,
    target: str | None = None,
    chat_id: int | None = None,
    **details: Any,
) -> None:
    """Write the audit row of an action done (in the caller's transaction, so it commits with
    the action); `person` None: the bot did it on its own (an incident a probe opened)."""
    await _audit(db, person, action, True, target, chat_id, details)


async def refuse(db: Executor, person: Person | None, action: Action | str, **where: Any) -> None:
    """Write the audit row of a refusal (on its own, outside any transaction that rolls back):
    `done`'s row (`target`, `chat_id`, details), not allowed, with the person's roles."""
    target, chat_id = where.pop("target", None), where.pop("chat_id", None)
    roles = sorted(person.roles) if person else []
    await _audit(db, person, action, False, target, chat_id, {"roles": roles, **where})


async def _audit(
    db: Executor, person: Person | None, action: Action | str, allowed: bool,
    target: str | None, chat_id: int | None, details: dict[str, Any],
) -> None:  # fmt: skip
    await audit.record(
        db, actor_id=person.id if person else None, action=str(action), allowed=allowed,
        target=target, chat_id=chat_id, details=details,
    )  # fmt: skip


async def require(
    db: Executor,
    person: Person | None,
    action: Action,
    *,
    target: str | None = None,
    chat_id: int | None = None,
    owner_id: int | None = None,
) -> Person:
    """The person, if they may do `action`; else NotAllowed, raised after the refusal is audited
    (handlers.refusals answers it)."""
    if may_person(person, action, owner_id=owner_id):
        return person
    await refuse(db, person, action, target=target, chat_id=chat_id)
    raise NotAllowed(action)
