"""Silences (Alertmanager matchers over a time range) and maintenance windows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.alerts.matchers import Matcher, matches_all
from services.storage.records import record, rowcount
from services.storage.types import Executor


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: int | None
    created_name: str | None
    comment: str
    expired_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.active(now) and matches_all(self.matchers, labels)


def _silence(row: Mapping[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(Matcher.from_json(m) for m in row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        created_name=row["created_name"],
        comment=row["comment"],
        expired_at=row["expired_at"],
    )


async def create_silence(
    db: Executor,
    matchers: tuple[Matcher, ...] | list[Matcher],
    *,
    now: datetime,
    duration: timedelta,
    created_by: int | None,
    created_name: str | None,
    comment: str = "",
) -> Silence:
    row = await db.fetchrow(
        """
        INSERT INTO alert_silences (matchers, starts_at, ends_at, created_by, created_name,
                                    comment, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $2)
        RETURNING id, matchers, starts_at, ends_at, created_by, created_name, comment, expired_at
        """,
        [m.to_json() for m in matchers],
        now,
        now + duration,
        created_by,
        created_name,
        comment,
    )
    return _silence(row)


async def active_silences(db: Executor, now: datetime) -> list[Silence]:
    rows = await db.fetch(
        """
        SELECT id, matchers, starts_at, ends_at, created_by, created_name, comment, expired_at
        FROM alert_silences
        WHERE expired_at IS NULL AND ends_at > $1 AND starts_at <= $1
        ORDER BY ends_at, id
        """,
        now,
    )
    return [_silence(r) for r in rows]


async def expire_silence(db: Executor, silence_id: int, *, now: datetime, by: int | None) -> bool:
    status: str = await db.execute(
        """
        UPDATE alert_silences SET expired_at = $2, expired_by = $3
        WHERE id = $1 AND expired_at IS NULL AND ends_at > $2
        """,
        silence_id,
        now,
        by,
    )
    return rowcount(status) == 1


def silenced_by(
    silences: list[Silence], labels: Mapping[str, str], now: datetime
) -> Silence | None:
    return next((s for s in silences if s.mutes(labels, now)), None)


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: int | None
    created_name: str | None
    stopped_at: datetime | None = None

    @property
    def end(self) -> datetime:
        return self.stopped_at if self.stopped_at is not None else self.ends_at

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.end


_WINDOW_COLUMNS = "id, starts_at, ends_at, reason, created_by, created_name, stopped_at"


def _window(row: Mapping[str, Any]) -> MaintenanceWindow:
    return record(MaintenanceWindow, row)


async def start_window(
    db: Executor,
    *,
    starts_at: datetime,
    duration: timedelta,
    reason: str,
    created_by: int | None,
    created_name: str | None,
    now: datetime,
) -> MaintenanceWindow:
    row = await db.fetchrow(
        f"""
        INSERT INTO maintenance_windows (starts_at, ends_at, reason, created_by, created_name,
                                         created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING {_WINDOW_COLUMNS}
        """,
        starts_at,
        starts_at + duration,
        reason,
        created_by,
        created_name,
        now,
    )
    return _window(row)


async def stop_windows(db: Executor, *, now: datetime, by: int | None) -> list[MaintenanceWindow]:
    """End every window running now; return them."""
    rows = await db.fetch(
        f"""
        UPDATE maintenance_windows SET stopped_at = $1, stopped_by = $2
        WHERE stopped_at IS NULL AND starts_at <= $1 AND ends_at > $1
        RETURNING {_WINDOW_COLUMNS}
        """,
        now,
        by,
    )
    return [_window(r) for r in rows]


async def current_and_planned(db: Executor, now: datetime) -> list[MaintenanceWindow]:
    rows = await db.fetch(
        f"""
        SELECT {_WINDOW_COLUMNS} FROM maintenance_windows
        WHERE coalesce(stopped_at, ends_at) > $1
        ORDER BY starts_at, id
        """,
        now,
    )
    return [_window(r) for r in rows]


async def active_window(db: Executor, now: datetime) -> MaintenanceWindow | None:
    windows = [w for w in await current_and_planned(db, now) if w.active(now)]
    return windows[0] if windows else None


async def ended_without_summary(db: Executor, now: datetime) -> list[MaintenanceWindow]:
    rows = await db.fetch(
        f"""
        SELECT {_WINDOW_COLUMNS} FROM maintenance_windows
        WHERE summary_sent_at IS NULL AND coalesce(stopped_at, ends_at) <= $1
        ORDER BY id
        FOR UPDATE SKIP LOCKED
        """,
        now,
    )
    return [_window(r) for r in rows]


async def record_muted(db: Executor, window_id: int, alert_ids: list[int], now: datetime) -> None:
    await db.execute(
        """
        INSERT INTO maintenance_muted (window_id, alert_id, first_at)
        SELECT $1, unnest($2::bigint[]), $3
        ON CONFLICT DO NOTHING
        """,
        window_id,
        sorted(alert_ids),
        now,
    )


@dataclass(frozen=True)
class MutedAlert:
    alertname: str
    labels: dict[str, str]
    severity: str
    first_at: datetime
    state: str


async def muted_in(db: Executor, window_id: int) -> list[MutedAlert]:
    rows = await db.fetch(
        """
        SELECT a.alertname, a.labels, a.severity, m.first_at, a.state
        FROM maintenance_muted m JOIN alerts a ON a.id = m.alert_id
        WHERE m.window_id = $1
        ORDER BY m.first_at, a.id
        """,
        window_id,
    )
    return [
        MutedAlert(r["alertname"], dict(r["labels"]), r["severity"], r["first_at"], r["state"])
        for r in rows
    ]


async def mark_summary_sent(db: Executor, window_id: int, now: datetime) -> None:
    await db.execute(
        "UPDATE maintenance_windows SET summary_sent_at = $2 WHERE id = $1", window_id, now
    )
