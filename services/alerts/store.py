"""SQL for alerts and alert groups (migration 0006_alerts); their records are model.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.alerts.config import GroupingRules
from services.alerts.model import AlertRow, AlertWrite, GroupRow
from services.storage.records import record
from services.storage.types import Executor

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


_ALERT_COLUMNS = """
    id, fingerprint, source, alertname, labels, annotations, severity, state, value, threshold,
    comparison, active_since, fired_at, resolved_at, evaluated_at, runbook_url, generator_url,
    group_id, inhibited_by
"""


def alert_of(row: Mapping[str, Any]) -> AlertRow:
    return record(
        AlertRow,
        row,
        labels=dict(row["labels"]),
        annotations=dict(row["annotations"] or {}),
    )


async def alerts_of_rule(db: Executor, alertname: str) -> dict[str, AlertRow]:
    rows = await db.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE alertname = $1 AND source = 'rule'",
        alertname,
    )
    return {r["fingerprint"]: alert_of(r) for r in rows}


async def alerts_of_group(db: Executor, group_id: int) -> list[AlertRow]:
    rows = await db.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE group_id = $1 ORDER BY fingerprint", group_id
    )
    return [alert_of(r) for r in rows]


async def active_alerts(db: Executor) -> list[AlertRow]:
    rows = await db.fetch(
        f"""SELECT {_ALERT_COLUMNS} FROM alerts WHERE state IN ('firing', 'pending')
            ORDER BY state = 'pending', coalesce(fired_at, active_since), id"""
    )
    return [alert_of(r) for r in rows]


async def save_alert(db: Executor, a: AlertWrite) -> int:
    alert_id: int = await db.fetchval(
        """
        INSERT INTO alerts (fingerprint, source, alertname, labels, annotations, severity, state,
                            value, threshold, comparison, active_since, fired_at, resolved_at,
                            evaluated_at, runbook_url, group_id, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $14)
        ON CONFLICT (fingerprint) DO UPDATE SET
            labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
            severity = EXCLUDED.severity, state = EXCLUDED.state, value = EXCLUDED.value,
            threshold = EXCLUDED.threshold, comparison = EXCLUDED.comparison,
            active_since = EXCLUDED.active_since, fired_at = EXCLUDED.fired_at,
            resolved_at = EXCLUDED.resolved_at, evaluated_at = EXCLUDED.evaluated_at,
            runbook_url = EXCLUDED.runbook_url,
            group_id = coalesce(EXCLUDED.group_id, alerts.group_id),
            updated_at = EXCLUDED.updated_at
        RETURNING id
        """,
        a.fingerprint,
        a.source,
        a.alertname,
        dict(a.labels),
        dict(a.annotations),
        a.severity,
        a.state.state,
        a.value,
        a.threshold,
        a.comparison,
        a.state.active_since,
        a.state.fired_at,
        a.state.resolved_at,
        a.evaluated_at,
        a.runbook_url,
        a.group_id,
    )
    return alert_id


_OPEN_GROUP = """
INSERT INTO alert_groups (group_key, labels, severity, channels, receivers, group_wait,
                          group_interval, repeat_interval, created_at, next_flush_at)
SELECT g.key, g.labels, g.severity, g.channels, g.receivers, g.group_wait_s * interval '1 s',
       g.group_interval_s * interval '1 s', g.repeat_interval_s * interval '1 s',
       $2, $2::timestamptz + coalesce(g.group_wait_s * interval '1 s', $3::interval)
FROM jsonb_to_recordset($1::text::jsonb)
     AS g(key text, labels jsonb, severity text, channels text[], receivers text[],
          group_wait_s float8, group_interval_s float8, repeat_interval_s float8)
ORDER BY g.key
ON CONFLICT (group_key) WHERE status = 'open' DO UPDATE SET
    severity = CASE WHEN array_position(ARRAY['critical', 'warning', 'info'], EXCLUDED.severity)
                       < coalesce(array_position(ARRAY['critical', 'warning', 'info'],
                                                 alert_groups.severity), 9)
                    THEN EXCLUDED.severity ELSE alert_groups.severity END,
    next_flush_at = CASE
        WHEN alert_groups.last_flushed_at IS NULL THEN alert_groups.next_flush_at
        -- a flush since this arrived missed it (folded late): look again at once
        WHEN alert_groups.last_flushed_at >= $2 THEN $2
        ELSE least(coalesce(alert_groups.next_flush_at, 'infinity'),
                   greatest($2, alert_groups.last_flushed_at
                                + coalesce(alert_groups.group_interval, $4::interval))) END
RETURNING id, group_key
"""


async def open_groups(
    db: Executor, groups: list[dict[str, Any]], now: datetime, grouping: GroupingRules
) -> dict[str, int]:
    """Find or open the open group of each key ({key, labels, severity, channels} and, for a
    routed group, receivers and group_wait_s, group_interval_s, repeat_interval_s) and schedule
    its flush: group_wait after opening, else group_interval after the last flush."""
    import json

    rows = await db.fetch(
        _OPEN_GROUP, json.dumps(groups), now, grouping.group_wait, grouping.group_interval
    )
    return {r["group_key"]: r["id"] for r in rows}


async def touch_groups(
    db: Executor, group_ids: list[int], now: datetime, grouping: GroupingRules
) -> None:
    """Something changed in these groups (an alert resolved) at `now`: flush at the next
    interval, or at once when a flush already happened since `now` (the change was folded
    after it)."""
    if not group_ids:
        return
    await db.execute(
        """
        UPDATE alert_groups SET next_flush_at = CASE
            WHEN last_flushed_at IS NULL THEN coalesce(next_flush_at, $2)
            WHEN last_flushed_at >= $2 THEN $2  -- a flush since it changed missed the change
            ELSE least(coalesce(next_flush_at, 'infinity'),
                       greatest($2, last_flushed_at + coalesce(group_interval, $3::interval))) END
        WHERE id = ANY($1::bigint[]) AND status = 'open'
        """,
        sorted(set(group_ids)),
        now,
        grouping.group_interval,
    )


_GROUP_COLUMNS = """
    g.id, g.group_key, g.labels, g.severity, g.channels, g.status, g.created_at, g.next_flush_at,
    g.last_flushed_at, g.last_notified_at, g.notified_firing, g.acknowledged_by,
    g.acknowledged_name, g.acknowledged_at, g.incident_id, g.escalated_at, g.silence_id,
    g.resolved_at, g.receivers, g.group_wait, g.group_interval, g.repeat_interval, g.storm_id,
    coalesce((SELECT array_agg(ARRAY[m.chat_id, m.outbox_id] ORDER BY m.outbox_id)
              FROM alert_group_messages m WHERE m.group_id = g.id), '{}') AS messages
"""


def group_of(row: Mapping[str, Any]) -> GroupRow:
    return record(
        GroupRow,
        row,
        channels=list(row["channels"]),
        notified_firing=list(row["notified_firing"]),
        receivers=list(row["receivers"]) if row["receivers"] is not None else None,
        labels=dict(row["labels"]),
        messages=[(int(m[0]), int(m[1])) for m in row["messages"]],
    )


async def get_group(db: Executor, group_id: int, *, lock: bool = False) -> GroupRow | None:
    suffix = " FOR UPDATE OF g" if lock else ""
    row = await db.fetchrow(
        f"SELECT {_GROUP_COLUMNS} FROM alert_groups g WHERE g.id = $1{suffix}", group_id
    )
    return group_of(row) if row else None


async def due_group_ids(db: Executor, now: datetime, grouping: GroupingRules) -> list[int]:
    rows = await db.fetch(
        """
        SELECT id FROM alert_groups
        WHERE status = 'open'
          AND (next_flush_at <= $1
               OR (last_flushed_at IS NOT NULL
                   AND last_flushed_at + coalesce(group_interval, $2::interval) <= $1))
        ORDER BY coalesce(next_flush_at, last_flushed_at), id
        """,
        now,
        grouping.group_interval,
    )
    return [r["id"] for r in rows]


def latest_messages(group: GroupRow) -> dict[int, int]:
    """chat id -> the outbox row of the group's newest message in that chat."""
    latest: dict[int, int] = {}
    for chat_id, outbox_id in group.messages:
        latest[chat_id] = max(outbox_id, latest.get(chat_id, 0))
    return latest


async def add_message(
    db: Executor, group_id: int, chat_id: int, outbox_id: int, now: datetime
) -> None:
    await db.execute(
        "INSERT INTO alert_group_messages (group_id, chat_id, outbox_id, created_at) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        group_id,
        chat_id,
        outbox_id,
        now,
    )


def seconds(value: timedelta) -> float:
    return value.total_seconds()


async def inhibited_alerts(db: Executor) -> list[AlertRow]:
    rows = await db.fetch(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE inhibited_by IS NOT NULL")
    return [alert_of(r) for r in rows]


async def set_inhibited(db: Executor, muted: Mapping[str, str]) -> None:
    """Exactly the alerts of `muted` (fingerprint -> the source's) are inhibited now."""
    targets = sorted(muted)
    await db.execute(
        "UPDATE alerts SET inhibited_by = NULL"
        " WHERE inhibited_by IS NOT NULL AND NOT (fingerprint = ANY($1::text[]))",
        targets,
    )
    await db.execute(
        """
        UPDATE alerts a SET inhibited_by = m.source
        FROM unnest($1::text[], $2::text[]) AS m(target, source)
        WHERE a.fingerprint = m.target AND a.inhibited_by IS DISTINCT FROM m.source
        """,
        targets,
        [muted[t] for t in targets],
    )


async def alerts_by_fingerprint(db: Executor, fingerprints: list[str]) -> dict[str, AlertRow]:
    """The alerts with these fingerprints (to say what inhibits an alert)."""
    if not fingerprints:
        return {}
    rows = await db.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE fingerprint = ANY($1::text[])",
        sorted(set(fingerprints)),
    )
    return {r["fingerprint"]: alert_of(r) for r in rows}


async def lock_open_group(db: Executor, group_id: int) -> bool:
    """Lock the group for a flush while it is open; False when it is not (or another holds it)."""
    locked = await db.fetchval(
        "SELECT id FROM alert_groups WHERE id = $1 AND status = 'open' FOR UPDATE SKIP LOCKED",
        group_id,
    )
    return locked is not None


# The columns a flush, a refresh or a button writes (update_group names them; no others).
_UPDATABLE = frozenset(
    {
        "acknowledged_by",
        "acknowledged_name",
        "acknowledged_at",
        "silence_id",
        "escalated_by",
        "last_flushed_at",
        "next_flush_at",
        "status",
        "resolved_at",
        "notified_firing",
        "last_notified_at",
        "incident_id",
        "escalated_at",
    }
)


async def update_group(db: Executor, group_id: int, updates: Mapping[str, Any]) -> None:
    names = sorted(updates)
    assert set(names) <= _UPDATABLE
    assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(names))
    await db.execute(
        f"UPDATE alert_groups SET {assignments} WHERE id = $1",
        group_id,
        *(updates[n] for n in names),
    )


async def flush_open_groups(db: Executor, now: datetime) -> None:
    """Every open group is looked at again at the next flush (a maintenance window ended)."""
    await db.execute("UPDATE alert_groups SET next_flush_at = $1 WHERE status = 'open'", now)


async def acknowledge(
    db: Executor, group_id: int, person_id: int, name: str, now: datetime
) -> None:
    fields = {"acknowledged_by": person_id, "acknowledged_name": name, "acknowledged_at": now}
    await update_group(db, group_id, fields)


async def acknowledge_storm(
    db: Executor, storm_id: int, person_id: int, name: str, now: datetime
) -> list[int]:
    """The storm and every open group of it not acknowledged yet, acknowledged by the person;
    the ids of those groups, in order."""
    rows = await db.fetch(
        """
        UPDATE alert_groups SET acknowledged_by = $2, acknowledged_name = $3,
                                acknowledged_at = $4
        WHERE storm_id = $1 AND status = 'open' AND acknowledged_at IS NULL
        RETURNING id
        """,
        storm_id,
        person_id,
        name,
        now,
    )
    await db.execute(
        "UPDATE alert_storms SET acknowledged_by = $2, acknowledged_name = $3,"
        " acknowledged_at = $4 WHERE id = $1",
        storm_id,
        person_id,
        name,
        now,
    )
    return sorted(r["id"] for r in rows)


async def set_silence(db: Executor, group_id: int, silence_id: int) -> None:
    await update_group(db, group_id, {"silence_id": silence_id})


async def set_escalated(
    db: Executor, group_id: int, incident_id: int, person_id: int, now: datetime
) -> None:
    fields = {"incident_id": incident_id, "escalated_by": person_id, "escalated_at": now}
    await update_group(db, group_id, fields)


async def resolve_firing(db: Executor, group_id: int, person_id: int, now: datetime) -> None:
    """A person resolved the group: its firing alerts are resolved (the flush closes it)."""
    await db.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = $2, resolved_by = $3, "
        "updated_at = $2 WHERE group_id = $1 AND state = 'firing'",
        group_id,
        now,
        person_id,
    )
