"""The staff roster: who is on it with which roles, who holds each role's on-call slot, and
who has not pressed Start (so the bot cannot page them privately yet). Who may do what is
services/staff.py's permission table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from asyncpg import Record

from services.storage.records import record, rowcount
from services.storage.types import Executor
from services.users import Role, shown_name


class RosterError(Exception):
    """A roster change that cannot be made (unknown person, role not held, last admin)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not_on_roster" | "role_not_held" | "last_admin" | "unknown_role"


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    display_name: str  # the person's name as every message shows it (users.shown_name)
    roles: tuple[str, ...]
    on_call: bool
    language: str | None = None
    on_call_roles: tuple[str, ...] = ()  # roles this person holds the on-call slot of
    # Telegram refused to message them privately: they never pressed Start (pages go to the
    # admin chat until they do)
    not_started: bool = False


_SELECT = """
    SELECT s.user_id, s.display_name, u.first_name, s.roles, s.on_call, u.language,
           s.not_started_at IS NOT NULL AS not_started,
           coalesce((SELECT array_agg(o.role ORDER BY o.role) FROM oncall_slots o
                     WHERE o.user_id = s.user_id), '{}') AS on_call_roles
    FROM staff s LEFT JOIN users u ON u.id = s.user_id
"""


def _member(row: Record) -> StaffMember:
    return record(
        StaffMember,
        row,
        display_name=shown_name(row["first_name"], row["display_name"], row["user_id"]),
        roles=tuple(row["roles"]),
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
    rows = await db.fetch(_SELECT + " ORDER BY coalesce(u.first_name, s.display_name), s.user_id")
    return [_member(r) for r in rows]


async def member(db: Executor, user_id: int) -> StaffMember | None:
    row = await db.fetchrow(_SELECT + " WHERE s.user_id = $1", user_id)
    return _member(row) if row else None


async def names_of(db: Executor, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Each person's name as messages show it (their id when they left the roster)."""
    found: dict[int, str] = {}
    for user_id in {u for u in user_ids if u is not None}:
        person = await member(db, user_id)
        found[user_id] = person.display_name if person else str(user_id)
    return found


async def mark_not_started(db: Executor, user_id: int) -> bool:
    """Telegram refused a private message to this staff member: they never pressed Start.
    True only the first time (until they start), so the admin chat is told once."""
    status: str = await db.execute(
        "UPDATE staff SET not_started_at = now() WHERE user_id = $1 AND not_started_at IS NULL",
        user_id,
    )
    return rowcount(status) == 1


async def started_privately(db: Executor, user_id: int) -> None:
    """The person wrote to the bot in private: the bot may message them from now on."""
    await db.execute(
        "UPDATE staff SET not_started_at = NULL WHERE user_id = $1 AND not_started_at IS NOT NULL",
        user_id,
    )


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
    return rowcount(status) == 1


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
