"""The on-call tables: rotation versions, overrides, swaps, calendar tokens, events told.

Plain functions over an executor; the SQL sits next to the function that runs it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from asyncpg import Record

from services.oncall.model import OncallRules, Override, Rotation, RotationSpec, Shift, Swap
from services.oncall.schedule import Schedule, Version
from services.storage.records import jsonb, record, rowcount
from services.storage.types import Executor

RULES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the RULES_FILE rotation answers from here


# --- rotations ----------------------------------------------------------------------------------


async def sync_rules(db: Executor, rules: OncallRules) -> None:
    """Make the `rules` rows say what RULES_FILE says now (chat versions stay on top)."""
    wanted = {str(role): spec for role, spec in rules.rotations.items()}
    await db.execute(
        "DELETE FROM oncall_rotations WHERE source = 'rules' AND NOT (role = ANY($1::text[]))",
        list(wanted),
    )
    for role, spec in wanted.items():
        await db.execute(
            """
            INSERT INTO oncall_rotations (role, source, spec, effective_from)
            VALUES ($1, 'rules', $2, $3)
            ON CONFLICT (role) WHERE source = 'rules' DO UPDATE SET spec = EXCLUDED.spec
            """,
            role,
            spec.model_dump(mode="json"),
            RULES_EPOCH,
        )


async def save_rotation(
    db: Executor, role: str, spec: RotationSpec | None, *, effective_from: datetime, by: int | None
) -> int:
    """A new version from `effective_from` on (None: no rotation from then on)."""
    version_id: int = await db.fetchval(
        """
        INSERT INTO oncall_rotations (role, source, spec, effective_from, created_by)
        VALUES ($1, 'chat', $2, $3, $4) RETURNING id
        """,
        role,
        spec.model_dump(mode="json") if spec is not None else None,
        effective_from,
        by,
    )
    return version_id


@dataclass(frozen=True)
class StoredVersion:
    id: int
    role: str
    source: str
    spec: RotationSpec | None
    effective_from: datetime


def _spec(raw: Any) -> RotationSpec | None:
    if raw is None:
        return None
    return RotationSpec.model_validate(jsonb(raw))


async def versions(db: Executor, role: str) -> list[StoredVersion]:
    rows = await db.fetch(
        """
        SELECT id, role, source, spec, effective_from FROM oncall_rotations
        WHERE role = $1 ORDER BY effective_from, id
        """,
        role,
    )
    return [record(StoredVersion, r, spec=_spec(r["spec"])) for r in rows]


async def rotated_roles(db: Executor) -> list[str]:
    """Roles with any rotation version (even one that ended: they answer from their history)."""
    rows = await db.fetch("SELECT DISTINCT role FROM oncall_rotations ORDER BY role")
    return [r["role"] for r in rows]


async def current_spec(db: Executor, role: str, at: datetime) -> RotationSpec | None:
    found = [v for v in await versions(db, role) if v.effective_from <= at]
    return found[-1].spec if found else None


# --- overrides ----------------------------------------------------------------------------------


def _override(row: Record) -> Override:
    return record(Override, row, start=row["starts_at"], end=row["ends_at"])


async def overrides(db: Executor, role: str, start: datetime, end: datetime) -> list[Override]:
    rows = await db.fetch(
        """
        SELECT * FROM oncall_overrides
        WHERE role = $1 AND cancelled_at IS NULL AND ends_at > $2 AND starts_at < $3
        ORDER BY id
        """,
        role,
        start,
        end,
    )
    return [_override(r) for r in rows]


async def add_override(
    db: Executor,
    *,
    role: str,
    user_id: int,
    start: datetime,
    end: datetime,
    replaces: int | None,
    by: int | None,
    kind: str = "cover",
    swap_id: int | None = None,
) -> Override:
    row = await db.fetchrow(
        """
        INSERT INTO oncall_overrides
            (role, user_id, replaces, starts_at, ends_at, kind, swap_id, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
        """,
        role,
        user_id,
        replaces,
        start,
        end,
        kind,
        swap_id,
        by,
    )
    return _override(row)


async def get_override(db: Executor, override_id: int) -> Override | None:
    row = await db.fetchrow(
        "SELECT * FROM oncall_overrides WHERE id = $1 AND cancelled_at IS NULL", override_id
    )
    return _override(row) if row else None


async def end_override(db: Executor, override_id: int, at: datetime) -> None:
    """A running override ends at `at`: the part already served stays."""
    await db.execute("UPDATE oncall_overrides SET ends_at = $2 WHERE id = $1", override_id, at)


async def cancel_override(db: Executor, override_id: int, at: datetime) -> bool:
    status: str = await db.execute(
        "UPDATE oncall_overrides SET cancelled_at = $2 WHERE id = $1 AND cancelled_at IS NULL",
        override_id,
        at,
    )
    return rowcount(status) == 1


# --- the schedule of a role ----------------------------------------------------------------------


async def schedule(
    db: Executor, role: str, tz: ZoneInfo, start: datetime, end: datetime
) -> Schedule | None:
    """The role's schedule as seen over [start, end), or None when it never had a rotation."""
    stored = await versions(db, role)
    if not stored:
        return None
    built: list[Version] = []
    for version in stored:
        if version.spec is None:
            built.append(Version(version.effective_from, Rotation(role=role, layers=(), tz=tz)))
        else:
            built.append(Version(version.effective_from, version.spec.build(role, tz)))
    return Schedule(role, tuple(built), tuple(await overrides(db, role, start, end)))


# --- calendar tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    token: str
    kind: str  # person | role
    subject: str


async def calendar_link(db: Executor, owner_id: int, kind: str, subject: str) -> Calendar:
    """The owner's live token for this feed, made on first ask."""
    row = await db.fetchrow(
        """
        SELECT token, kind, subject FROM oncall_calendars
        WHERE owner_id = $1 AND kind = $2 AND subject = $3 AND revoked_at IS NULL
        """,
        owner_id,
        kind,
        subject,
    )
    if row is not None:
        return Calendar(row["token"], row["kind"], row["subject"])
    token = secrets.token_urlsafe(24)
    await db.execute(
        "INSERT INTO oncall_calendars (token, kind, subject, owner_id) VALUES ($1, $2, $3, $4)",
        token,
        kind,
        subject,
        owner_id,
    )
    return Calendar(token, kind, subject)


async def revoke_calendars(db: Executor, owner_id: int) -> int:
    status: str = await db.execute(
        "UPDATE oncall_calendars SET revoked_at = now() WHERE owner_id = $1 AND revoked_at IS NULL",
        owner_id,
    )
    return rowcount(status)


async def calendar(db: Executor, token: str) -> Calendar | None:
    row = await db.fetchrow(
        "SELECT token, kind, subject FROM oncall_calendars WHERE token = $1 AND revoked_at IS NULL",
        token,
    )
    return Calendar(row["token"], row["kind"], row["subject"]) if row else None


# --- events told once ----------------------------------------------------------------------------


async def mark_event(db: Executor, role: str, at: datetime, kind: str) -> bool:
    """True the first time (this replica tells it); False when it was told already."""
    status: str = await db.execute(
        "INSERT INTO oncall_events (role, at, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        role,
        at,
        kind,
    )
    return rowcount(status) == 1


# drafts: a typed rotation waiting for the admin's Save ------------------------------------------


async def add_draft(db: Executor, role: str, spec: RotationSpec | None, by: int) -> int:
    draft_id: int = await db.fetchval(
        "INSERT INTO oncall_drafts (role, spec, created_by) VALUES ($1, $2, $3) RETURNING id",
        role,
        spec.model_dump(mode="json") if spec is not None else None,
        by,
    )
    return draft_id


async def get_draft(db: Executor, draft_id: int) -> tuple[str, RotationSpec | None] | None:
    """(role, rotation) of a draft, used or not; None: no such draft."""
    row = await db.fetchrow("SELECT role, spec FROM oncall_drafts WHERE id = $1", draft_id)
    return (row["role"], _spec(row["spec"])) if row else None


async def use_draft(db: Executor, draft_id: int, at: datetime | None = None) -> bool:
    """Mark the draft used (saved, or dropped when `at` is None: the database's now); False:
    it was used before."""
    status: str = await db.execute(
        "UPDATE oncall_drafts SET used_at = coalesce($2, now()) WHERE id = $1 AND used_at IS NULL",
        draft_id,
        at,
    )
    return rowcount(status) == 1


# swaps ------------------------------------------------------------------------------------------


def _swap(r: Record) -> Swap:
    return record(
        Swap,
        r,
        a_accepted=r["a_accepted_at"] is not None,
        b_accepted=r["b_accepted_at"] is not None,
    )


async def add_swap(
    db: Executor, role: str, a_user: int, a: Shift, b_user: int, b: Shift, *, by: int,
    now: datetime,
) -> Swap:  # fmt: skip
    """A proposed swap of `a_user`'s shift `a` with `b_user`'s `b`; a party who proposes it has
    accepted it."""
    row = await db.fetchrow(
        """
        INSERT INTO oncall_swaps (role, a_user, a_start, a_end, b_user, b_start, b_end,
                                  proposed_by, a_accepted_at, b_accepted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *
        """,
        role, a_user, a.start, a.end, b_user, b.start, b.end, by,
        now if by == a_user else None, now if by == b_user else None,
    )  # fmt: skip
    return _swap(row)


async def get_swap(db: Executor, swap_id: int, *, lock: bool = False) -> Swap | None:
    lock_sql = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(f"SELECT * FROM oncall_swaps WHERE id = $1{lock_sql}", swap_id)
    return _swap(row) if row else None


async def set_swap_status(db: Executor, swap_id: int, status: str) -> None:
    """'expired', 'declined' or 'done'."""
    await db.execute("UPDATE oncall_swaps SET status = $2 WHERE id = $1", swap_id, status)


async def accept_swap(db: Executor, swap_id: int, now: datetime, *, by_a: bool) -> Swap:
    """One party's Accept (a's when `by_a`, else b's), kept from their first press."""
    row = await db.fetchrow(
        """
        UPDATE oncall_swaps
        SET a_accepted_at = CASE WHEN $3 THEN coalesce(a_accepted_at, $2) ELSE a_accepted_at END,
            b_accepted_at = CASE WHEN $3 THEN b_accepted_at ELSE coalesce(b_accepted_at, $2) END
        WHERE id = $1 RETURNING *
        """,
        swap_id,
        now,
        by_a,
    )
    return _swap(row)
