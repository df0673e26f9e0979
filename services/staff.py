"""The staff roster, who is on call for each level's role, and who may do what.

Roles decide permissions through one small table (`PERMISSIONS`); `require` checks a person
against it and audits the refusal, so every door that needs a role says so in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from asyncpg import Record

from services import audit
from services.storage.types import Executor
from services.users import ENGINEER_ROLES, Person, Role


class Action(StrEnum):
    ANSWER_TICKET = "ticket.answer"
    RAISE_INCIDENT = "incident.raise"
    VIEW_INCIDENTS = "incident.view"
    ACKNOWLEDGE = "incident.acknowledge"
    ESCALATE = "incident.escalate"
    RESOLVE = "incident.resolve"
    VIEW_ROSTER = "roster.view"
    CHANGE_ROSTER = "roster.change"


ALL_STAFF = frozenset(Role)
SUPPORT_AND_ENGINEERS = frozenset({Role.SUPPORT_ENGINEER}) | ENGINEER_ROLES

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.ANSWER_TICKET: SUPPORT_AND_ENGINEERS,
    Action.RAISE_INCIDENT: ALL_STAFF,
    Action.VIEW_INCIDENTS: ALL_STAFF,
    Action.ACKNOWLEDGE: ALL_STAFF,
    Action.ESCALATE: ALL_STAFF,
    Action.RESOLVE: ENGINEER_ROLES,  # engineers and up, never support alone
    Action.VIEW_ROSTER: ALL_STAFF,
    Action.CHANGE_ROSTER: frozenset({Role.ADMIN}),
}


class NotAllowed(Exception):
    """The person's roles do not permit the action (already audited)."""

    def __init__(self, action: Action) -> None:
        super().__init__(action.value)
        self.action = action


class RosterError(Exception):
    """A roster change that cannot be made (unknown person, role not held, last admin)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not_on_roster" | "role_not_held" | "last_admin" | "unknown_role"


def may(roles: Iterable[str], action: Action) -> bool:
    return bool(PERMISSIONS[action].intersection(roles))


async def require(
    db: Executor,
    person: Person | None,
    action: Action,
    *,
    target: str | None = None,
    chat_id: int | None = None,
) -> None:
    """Raise NotAllowed (after auditing the refusal) unless the person may do `action`."""
    if person is not None and may(person.roles, action):
        return
    await audit.record(
        db,
        actor_id=person.id if person else None,
        action=action.value,
        allowed=False,
        target=target,
        chat_id=chat_id,
        details={"roles": sorted(person.roles) if person else []},
    )
    raise NotAllowed(action)


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    display_name: str
    roles: tuple[str, ...]
    on_call: bool
    language: str | None = None
    on_call_roles: tuple[str, ...] = ()  # roles this person holds the on-call slot of


_SELECT = """
    SELECT s.user_id, s.display_name, s.roles, s.on_call, u.language,
           coalesce((SELECT array_agg(o.role ORDER BY o.role) FROM oncall_slots o
                     WHERE o.user_id = s.user_id), '{}') AS on_call_roles
    FROM staff s LEFT JOIN users u ON u.id = s.user_id
"""


def _member(row: Record) -> StaffMember:
    return StaffMember(
        user_id=row["user_id"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        on_call=row["on_call"],
        language=row["language"],
        on_call_roles=tuple(row["on_call_roles"]),
    )


def parse_roles(words: Iterable[str]) -> list[Role]:
    """Role names as typed in chat ("tech_lead", "Tech-Lead"); raises RosterError."""
    roles: list[Role] = []
    for word in words:
        name = word.strip().lower().replace("-", "_")
        try:
            role = Role(name)
        except ValueError:
            raise RosterError("unknown_role") from None
        if role not in roles:
            roles.append(role)
    return roles


async def roster(db: Executor) -> list[StaffMember]:
    rows = await db.fetch(_SELECT + " ORDER BY s.display_name, s.user_id")
    return [_member(r) for r in rows]


async def member(db: Executor, user_id: int) -> StaffMember | None:
    row = await db.fetchrow(_SELECT + " WHERE s.user_id = $1", user_id)
    return _member(row) if row else None


async def add_member(
    db: Executor, *, user_id: int, display_name: str, roles: Iterable[Role], added_by: int | None
) -> StaffMember:
    """Put a person on the roster, or give an existing member more roles."""
    await db.execute(
        """
        INSERT INTO staff (user_id, display_name, roles, added_by)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (user_id) DO UPDATE
            SET roles = ARRAY(SELECT DISTINCT unnest(staff.roles || EXCLUDED.roles) ORDER BY 1),
                display_name = EXCLUDED.display_name
        """,
        user_id,
        display_name,
        [r.value for r in roles],
        added_by,
    )
    found = await member(db, user_id)
    assert found is not None
    return found


async def remove_member(db: Executor, user_id: int) -> bool:
    """Take a person off the roster (and off every on-call slot). The last admin stays."""
    current = await member(db, user_id)
    if current is None:
        return False
    if Role.ADMIN in current.roles:
        admins = await db.fetchval("SELECT count(*) FROM staff WHERE 'admin' = ANY(roles)")
        if admins <= 1:
            raise RosterError("last_admin")
    status: str = await db.execute("DELETE FROM staff WHERE user_id = $1", user_id)
    return status.endswith(" 1")


async def set_on_call(db: Executor, role: Role, user_id: int, *, set_by: int | None) -> None:
    """`/oncall set <role> <user>`: the user now holds `role`'s on-call slot."""
    current = await member(db, user_id)
    if current is None:
        raise RosterError("not_on_roster")
    if role.value not in current.roles:
        raise RosterError("role_not_held")
    previous = await db.fetchval("SELECT user_id FROM oncall_slots WHERE role = $1", role.value)
    await db.execute(
        """
        INSERT INTO oncall_slots (role, user_id, set_by) VALUES ($1, $2, $3)
        ON CONFLICT (role) DO UPDATE
            SET user_id = EXCLUDED.user_id, set_by = EXCLUDED.set_by, set_at = now()
        """,
        role.value,
        user_id,
        set_by,
    )
    # staff.on_call mirrors "holds at least one slot" for everyone the change touched.
    await db.execute(
        """
        UPDATE staff s
        SET on_call = EXISTS (SELECT 1 FROM oncall_slots o WHERE o.user_id = s.user_id)
        WHERE s.user_id = ANY($1::bigint[])
        """,
        [u for u in (user_id, previous) if u is not None],
    )


async def on_call_for(db: Executor, role: str) -> list[StaffMember]:
    """Who answers for `role` now: its slot holder; else members of that role marked on call;
    else everyone holding the role (an empty slot must not silence an escalation)."""
    rows = await db.fetch(
        _SELECT
        + """
        WHERE $1 = ANY(s.roles)
        ORDER BY (EXISTS (SELECT 1 FROM oncall_slots o WHERE o.role = $1 AND o.user_id = s.user_id))
                 DESC, s.on_call DESC, s.user_id
        """,
        role,
    )
    members = [_member(r) for r in rows]
    holders = [m for m in members if role in m.on_call_roles]
    if holders:
        return holders
    marked = [m for m in members if m.on_call]
    return marked or members


async def members_with(
    db: Executor, roles: Iterable[str], *, on_call_only: bool = False
) -> list[StaffMember]:
    rows = await db.fetch(
        _SELECT + " WHERE s.roles && $1::text[] AND (NOT $2 OR s.on_call) ORDER BY s.user_id",
        [str(r) for r in roles],
        on_call_only,
    )
    return [_member(r) for r in rows]


async def on_call_board(db: Executor, roles: Iterable[str]) -> list[tuple[str, list[StaffMember]]]:
    """`/oncall`: for each level's role, who holds it now."""
    return [(role, await on_call_for(db, role)) for role in roles]
