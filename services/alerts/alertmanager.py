"""Alertmanager's webhook (payload version 4) and its ingestion into the bot's alert pipeline.

Firing and resolved alerts of one payload are stored in one transaction; a firing alert joins
its group (scheduling the group's message), a resolved one closes the bot's alert of the same
labels. A late, older firing never reopens an alert resolved after it started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.alerts import store
from services.alerts.config import AlertsRules
from services.alerts.evaluation import fingerprint
from services.storage.types import Executor
from services.text import unstorable

KNOWN_SEVERITIES = ("critical", "warning", "info")
DEADLOCK_RETRIES = 5


def _storable(value: str) -> str:
    """A text PostgreSQL cannot hold (NUL, a lone surrogate) makes the payload a poison one:
    refused with the reason (a 4xx, never retried), not stored half and not retried for ever."""
    reason = unstorable(value)
    if reason is not None:
        raise ValueError(f"{reason}, which cannot be stored")
    return value


Text = Annotated[str, AfterValidator(_storable)]
Texts = dict[Text, Text]


class AmAlert(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: Literal["firing", "resolved"]
    labels: Texts
    annotations: Texts = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: Text = Field(default="", alias="generatorURL")
    fingerprint: Text = ""


class AmPayload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    version: Literal["4"]
    group_key: Text = Field(alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: Text
    group_labels: Texts = Field(default_factory=dict, alias="groupLabels")
    common_labels: Texts = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Texts = Field(default_factory=dict, alias="commonAnnotations")
    external_url: Text = Field(default="", alias="externalURL")
    alerts: list[AmAlert]


@dataclass(frozen=True)
class IngestResult:
    stored: int
    firing: int
    resolved: int
    ignored: int  # stale firings of alerts resolved after they started


def severity_of(labels: dict[str, str]) -> str:
    value = labels.get("severity", "").lower()
    return value if value in KNOWN_SEVERITIES else "warning"


_UPSERT = """
INSERT INTO alerts (fingerprint, source, alertname, labels, annotations, severity, state,
                    active_since, fired_at, resolved_at, ends_at, evaluated_at, generator_url,
                    runbook_url, external_fingerprint, group_id, updated_at)
SELECT a.fingerprint, 'alertmanager', a.alertname, a.labels, a.annotations, a.severity, a.state,
       a.starts_at, a.starts_at, CASE WHEN a.state = 'resolved' THEN a.ends_at END, a.ends_at,
       $2, a.generator_url, a.runbook_url, a.external_fingerprint, a.group_id, $2
FROM jsonb_to_recordset($1::text::jsonb) AS a(
    fingerprint text, alertname text, labels jsonb, annotations jsonb, severity text,
    state text, starts_at timestamptz, ends_at timestamptz, generator_url text,
    runbook_url text, external_fingerprint text, group_id bigint)
ORDER BY a.fingerprint
ON CONFLICT (fingerprint) DO UPDATE SET
    labels = EXCLUDED.labels, annotations = EXCLUDED.annotations, severity = EXCLUDED.severity,
    state = EXCLUDED.state,
    active_since = CASE WHEN alerts.state = 'firing' AND EXCLUDED.state = 'firing'
                        THEN least(alerts.active_since, EXCLUDED.active_since)
                        WHEN EXCLUDED.state = 'resolved' THEN alerts.active_since
                        ELSE EXCLUDED.active_since END,
    fired_at = CASE WHEN EXCLUDED.state = 'resolved' THEN coalesce(alerts.fired_at,
                                                                   EXCLUDED.fired_at)
                    WHEN alerts.state = 'firing' THEN least(alerts.fired_at, EXCLUDED.fired_at)
                    ELSE EXCLUDED.fired_at END,
    resolved_at = EXCLUDED.resolved_at, ends_at = EXCLUDED.ends_at,
    evaluated_at = EXCLUDED.evaluated_at, generator_url = EXCLUDED.generator_url,
    runbook_url = EXCLUDED.runbook_url, external_fingerprint = EXCLUDED.external_fingerprint,
    group_id = coalesce(EXCLUDED.group_id, alerts.group_id), updated_at = EXCLUDED.updated_at
WHERE NOT (EXCLUDED.state = 'firing' AND alerts.state = 'resolved'
           AND alerts.resolved_at >= EXCLUDED.fired_at)
RETURNING state, group_id
"""


def _ends_at(alert: AmAlert) -> str | None:
    """Alertmanager sends 0001-01-01 for "not known yet"."""
    if alert.ends_at is None or alert.ends_at.year <= 1:
        return None
    return alert.ends_at.isoformat()


async def ingest(
    pool: asyncpg.Pool, payload: AmPayload, config: AlertsRules, now: datetime
) -> IngestResult:
    """Store every alert of one webhook call, in one transaction (retried on deadlock)."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await _ingest(conn, payload, config, now)
        except asyncpg.DeadlockDetectedError:
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def _ingest(
    conn: Executor, payload: AmPayload, config: AlertsRules, now: datetime
) -> IngestResult:
    group_by = config.grouping.group_by
    latest: dict[str, AmAlert] = {}
    for alert in payload.alerts:
        labels = dict(alert.labels)
        labels.setdefault("alertname", "alert")
        latest[fingerprint(labels)] = alert.model_copy(update={"labels": labels})
    groups: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}
    for fp, alert in latest.items():
        if alert.status != "firing":
            continue
        name = alert.labels["alertname"]
        spec = config.group_for(
            name, alert.labels, severity_of(alert.labels), config.alertmanager_channels, group_by
        )
        keys[fp] = spec["key"]
        found = groups.setdefault(spec["key"], spec)
        if KNOWN_SEVERITIES.index(severity_of(alert.labels)) < KNOWN_SEVERITIES.index(
            found["severity"]
        ):
            found["severity"] = severity_of(alert.labels)
    group_ids = await store.open_groups(conn, list(groups.values()), now, config.grouping)
    rows = [
        {
            "fingerprint": fp,
            "alertname": alert.labels["alertname"],
            "labels": alert.labels,
            "annotations": alert.annotations,
            "severity": severity_of(alert.labels),
            "state": alert.status,
            "starts_at": alert.starts_at.isoformat(),
            "ends_at": _ends_at(alert),
            "generator_url": alert.generator_url,
            "runbook_url": alert.annotations.get("runbook_url") or None,
            "external_fingerprint": alert.fingerprint or None,
            "group_id": group_ids.get(keys.get(fp, "")),
        }
        for fp, alert in sorted(latest.items())
    ]
    written = await conn.fetch(_UPSERT, json.dumps(rows), now)
    resolved_groups = [r["group_id"] for r in written if r["state"] == "resolved" and r["group_id"]]
    await store.touch_groups(conn, resolved_groups, now, config.grouping)
    firing = sum(1 for r in written if r["state"] == "firing")
    return IngestResult(
        stored=len(written),
        firing=firing,
        resolved=len(written) - firing,
        ignored=len(rows) - len(written),
    )
