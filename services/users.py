"""People: customers and staff, their language, and the roles that decide what they may do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from asyncpg import Record

from services.storage.records import Row, record, rowcount
from services.storage.types import Executor
from services.text import storable, storable_or_none


class Role(StrEnum):
    SUPPORT_ENGINEER = "support_engineer"
    SENIOR_ENGINEER = "senior_engineer"
    TECH_LEAD = "tech_lead"
    ENGINEERING_MANAGER = "engineering_manager"
    CTO = "cto"
    SECURITY = "security"
    MANAGEMENT = "management"
    PRODUCT = "product"
    DBA = "dba"
    DEVOPS = "devops"
    FRAUD_ANALYST = "fraud_analyst"
    ADMIN = "admin"


ENGINEER_ROLES = frozenset(
    {
        Role.SENIOR_ENGINEER,
        Role.TECH_LEAD,
        Role.ENGINEERING_MANAGER,
        Role.CTO,
        Role.DBA,
        Role.DEVOPS,
        Role.ADMIN,
    }
)


def full_name_sql(alias: str) -> str:
    """The SQL for a person's shown full name from `users` row `alias`: first and last name,
    else the Telegram id. One expression, so the ticket card and a customer's copy in the
    topic (which reads it from `touch`) never differ."""
    return (
        f"coalesce(nullif(trim(concat_ws(' ', {alias}.first_name, {alias}.last_name)), ''),"
        f" {alias}.id::text)"
    )


@dataclass(frozen=True)
class Person:
    """Who sent an update, as the handlers see them."""

    id: int
    first_name: str
    username: str | None = None
    language: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    banned_until: datetime | None = None
    # first and last name as every staff-side message shows a customer (FULL_NAME below);
    # "" where the person was not read from the database
    full_name: str = ""
    # whether their private chat with the bot may hold a conversation state (bot/fsm.py);
    # True where not read from the database: then the state is read
    private_state: bool = True

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def banned_at(self, now: datetime) -> bool:
        """Whether a ban (`/ban`) still holds at `now`."""
        return self.banned_until is not None and self.banned_until > now

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


def shown_name(
    first_name: str | None, display_name: str | None = None, user_id: int | None = None
) -> str:
    """How every message names a person, once: their Telegram first name, else the name the
    roster gave someone the bot has never met, else their id. Never with a role, a title or an
    id glued on: a renderer that means to show the role adds it, in the reader's language.
    Records carrying a person's name (the roster, a ticket's assignee, the escalation views)
    are built with this, so a person reads the same in every message."""
    for name in (first_name, display_name):
        if name and name.strip():
            return " ".join(name.split())
    return str(user_id) if user_id is not None else "?"


def shown_name_in(row: Row, user_id: int | None, prefix: str = "") -> str | None:
    """`shown_name` of `user_id` from a query that joined users (its `first_name`) and staff
    (its `display_name`), both columns named with `prefix`; None for nobody."""
    if user_id is None:
        return None
    return shown_name(row[f"{prefix}first_name"], row[f"{prefix}display_name"], user_id)


def unknown(sender_id: int, name: str) -> Person:
    """A sender no stored person stands behind: a channel or a group's anonymous admin (the
    id is that chat's, negative). No roles, so every privileged door refuses and audits it."""
    return Person(id=sender_id, first_name=name)


# One round trip whether or not anything changed. An unchanged person is only read: the upsert
# is not even tried (ON CONFLICT DO UPDATE locks the row even when its WHERE says no, and a lock
# makes the statement a write PostgreSQL flushes to disk at commit: one flush per message of a
# storm). The statement then reads them as they are.
_TOUCH = f"""
        WITH stored AS (
            SELECT id, first_name, last_name, username, language, banned_until, private_state
            FROM users WHERE id = $1
        ), written AS (
            INSERT INTO users (id, first_name, last_name, username)
            SELECT $1, $2, $3, $4
            WHERE NOT EXISTS (
                SELECT 1 FROM stored
                WHERE (first_name, last_name, username) IS NOT DISTINCT FROM ($2, $3, $4))
            ON CONFLICT (id) DO UPDATE
                SET first_name = EXCLUDED.first_name,
                    last_name = EXCLUDED.last_name,
                    username = EXCLUDED.username,
                    updated_at = now()
                WHERE (users.first_name, users.last_name, users.username)
                      IS DISTINCT FROM (EXCLUDED.first_name, EXCLUDED.last_name,
                                        EXCLUDED.username)
            RETURNING id, first_name, last_name, username, language, banned_until, private_state
        ), person AS (
            SELECT * FROM written
            UNION ALL
            SELECT * FROM stored WHERE NOT EXISTS (SELECT 1 FROM written)
        )
        SELECT p.id, p.first_name, p.username, p.language, p.banned_until, p.private_state,
               {full_name_sql("p")} AS full_name,
               coalesce((SELECT roles FROM staff WHERE user_id = $1), '{{}}') AS roles
        FROM person p
        """

_GET = f"""
        SELECT u.id, u.first_name, u.username, u.language, u.banned_until, u.private_state,
               {full_name_sql("u")} AS full_name, coalesce(s.roles, '{{}}') AS roles
        FROM users u LEFT JOIN staff s ON s.user_id = u.id
        WHERE u.id = $1
        """


async def touch(
    db: Executor,
    user_id: int,
    *,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
) -> Person:
    """Record (or refresh) a person who wrote to the bot and return them with their roles.

    Names are stored without what PostgreSQL cannot hold (NUL, lone surrogates): one such
    character in a name used to drop every message that person sent."""
    first_name = storable(first_name)
    last_name, username = storable_or_none(last_name), storable_or_none(username)
    row = await db.fetchrow(_TOUCH, user_id, first_name, last_name, username)
    assert row is not None
    return _person(row)


async def get(db: Executor, user_id: int) -> Person | None:
    row = await db.fetchrow(_GET, user_id)
    return _person(row) if row else None


async def find(db: Executor, who: str) -> Person | None:
    """A person by Telegram id or @username (as staff type them in commands)."""
    who = who.strip().lstrip("@")
    if who.isdigit():
        return await get(db, int(who))
    user_id = await id_of_username(db, who)
    return await get(db, user_id) if user_id is not None else None


async def set_private_state(db: Executor, user_id: int, may_have: bool) -> None:
    """Record whether the person's private chat may hold a conversation state (bot/fsm.py);
    a person not stored yet is stored (no name yet) so the mark is never lost."""
    await db.execute(
        """
        INSERT INTO users (id, private_state) VALUES ($1, $2)
        ON CONFLICT (id) DO UPDATE SET private_state = EXCLUDED.private_state
            WHERE users.private_state IS DISTINCT FROM EXCLUDED.private_state
        """,
        user_id,
        may_have,
    )


async def id_of_username(db: Executor, username: str) -> int | None:
    """The user id of an @username (without the @, any case); the oldest id if several."""
    user_id: int | None = await db.fetchval(
        "SELECT id FROM users WHERE lower(username) = lower($1) ORDER BY id LIMIT 1", username
    )
    return user_id


async def language_of(db: Executor, user_id: int) -> str | None:
    """The language the person chose (/language); None: not chosen, or not known to the bot."""
    language: str | None = await db.fetchval("SELECT language FROM users WHERE id = $1", user_id)
    return language


async def set_language(db: Executor, user_id: int, language: str) -> None:
    await db.execute(
        "UPDATE users SET language = $2, updated_at = now() WHERE id = $1", user_id, language
    )


async def set_banned(db: Executor, user_id: int, until: datetime | None) -> bool:
    status: str = await db.execute(
        "UPDATE users SET banned_until = $2, updated_at = now() WHERE id = $1", user_id, until
    )
    return rowcount(status) == 1


async def seed_admins(db: Executor, admin_ids: Iterable[int]) -> None:
    """ADMIN_IDS are admins from the start; later the roster is managed in chat."""
    for admin_id in admin_ids:
        await db.execute(
            """
            INSERT INTO staff (user_id, display_name, roles)
            VALUES ($1, $2, ARRAY['admin'])
            ON CONFLICT (user_id) DO UPDATE
                SET roles = CASE WHEN 'admin' = ANY(staff.roles) THEN staff.roles
                                 ELSE array_append(staff.roles, 'admin') END
            """,
            admin_id,
            f"admin {admin_id}",
        )


def _person(row: Record) -> Person:
    return record(Person, row, roles=frozenset(row["roles"]))
