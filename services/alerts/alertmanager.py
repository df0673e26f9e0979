"""Alertmanager's webhook (payload version 4): what the door checks, and how payloads are folded
into the bot's alerts and groups.

`check` runs before anything is stored: a body that is not a v4 payload, or that holds text
PostgreSQL cannot keep (NUL, a lone surrogate) or labels too large to index, is refused with the
reason. `fold` then turns checked payloads (in arrival order) into alerts: a firing alert joins
its group (scheduling the group's message), a resolved one closes the alert of the same
fingerprint (Alertmanager's own when the payload carries it). A late, older firing never
reopens an alert resolved after it started, and a late resolve never closes an alert that fired
again after it ended, so the order two payloads are folded in cannot wrong an alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from services.alerts import store
from services.alerts.config import AlertsRules
from services.alerts.evaluation import fingerprint
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import unstorable

KNOWN_SEVERITIES = ("critical", "warning", "info")
DEADLOCK_RETRIES = 5
# PostgreSQL indexes an alert's name and its group's key (built from label values); a btree
# row holds at most 2704 bytes, so an alert whose labels are larger cannot be stored.
MAX_LABEL_BYTES = 2048
# Alertmanager's fingerprint: 64 bits in hex (model.Fingerprint.String()).
AM_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
# A \u escape that may be a NUL or a (lone) surrogate: such bodies take the careful path.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


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
    """One alert, checked field by field (the careful path: it names the field at fault)."""

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


class WireAlert(TypedDict):
    """The same alert as plain data (the fast path: no Python call per field)."""

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: NotRequired[dict[str, str]]
    startsAt: datetime
    endsAt: NotRequired[datetime | None]
    generatorURL: NotRequired[str]
    fingerprint: NotRequired[str]


class WirePayload(TypedDict):
    version: Literal["4"]
    groupKey: str
    truncatedAlerts: NotRequired[int]
    status: Literal["firing", "resolved"]
    receiver: str
    groupLabels: NotRequired[dict[str, str]]
    commonLabels: NotRequired[dict[str, str]]
    commonAnnotations: NotRequired[dict[str, str]]
    externalURL: NotRequired[str]
    alerts: list[WireAlert]


WIRE = TypeAdapter(WirePayload)


class Refused(ValueError):
    """The payload can never be stored: answered 400 with this reason."""


@dataclass(frozen=True)
class Checked:
    text: str  # what is stored: the body as received (re-encoded only if not UTF-8)
    alerts: int


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def check(body: bytes) -> Checked:
    """Whether `body` is a v4 payload that can be stored; raise `Refused` with the reason.

    The usual body is checked in one pass of pydantic-core over the bytes; a body with a \\u
    escape that may hide a NUL or a lone surrogate, or one the fast pass refuses, is checked
    again field by field so the reason names the field."""
    if _SUSPECT.search(body) is None:
        try:
            wire = WIRE.validate_json(body)
            text = body.decode()
        except (ValidationError, UnicodeDecodeError):
            pass
        else:
            _check_sizes(wire["alerts"])
            return Checked(text, len(wire["alerts"]))
    return _check_carefully(body)


def _check_carefully(body: bytes) -> Checked:
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise Refused("malformed JSON: nested too deeply") from None
    try:
        payload = AmPayload.model_validate(raw)
    except ValidationError as exc:
        raise Refused(f"not an Alertmanager v4 payload: {_reason(exc)}") from None
    _check_sizes({"labels": a.labels} for a in payload.alerts)
    try:
        text = body.decode()
    except UnicodeDecodeError:  # JSON in UTF-16 or UTF-32: stored as UTF-8
        text = json.dumps(raw)
    return Checked(text, len(payload.alerts))


def _check_sizes(alerts: Iterable[Any]) -> None:
    for i, alert in enumerate(alerts):
        labels: dict[str, str] = alert["labels"]
        if len(repr(labels)) * 4 <= MAX_LABEL_BYTES:
            continue  # repr is longer than the text it holds, at most 4 bytes a character
        size = sum(len(k.encode()) + len(v.encode()) for k, v in labels.items())
        if size > MAX_LABEL_BYTES:
            raise Refused(
                f"alerts.{i}.labels cannot be stored: {size} bytes, more than the "
                f"{MAX_LABEL_BYTES} PostgreSQL can index"
            )


def parse(text: str) -> WirePayload:
    """A stored payload (checked at the door) as data."""
    return WIRE.validate_python(json.loads(text))


@dataclass(frozen=True)
class FoldResult:
    stored: int
    firing: int
    resolved: int
    ignored: int  # stale firings of alerts resolved after they started, stale resolves


def severity_of(labels: dict[str, str]) -> str:
    value = labels.get("severity", "").lower()
    return value if value in KNOWN_SEVERITIES else "warning"


def identity(alert: WireAlert, labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint when it sent one, else the hash of the labels."""
    given = alert.get("fingerprint") or ""
    return given if AM_FINGERPRINT.fullmatch(given) else fingerprint(labels)


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
  AND NOT (EXCLUDED.state = 'resolved' AND alerts.state = 'firing'
           AND alerts.fired_at > coalesce(EXCLUDED.resolved_at, 'infinity'))
RETURNING state, group_id
"""


def _ends_at(alert: WireAlert) -> str | None:
    """Alertmanager sends 0001-01-01 for "not known yet"."""
    ends = alert.get("endsAt")
    if ends is None or ends.year <= 1:
        return None
    return ends.isoformat()


async def ingest(
    pool: asyncpg.Pool, payload: AmPayload, config: AlertsRules, now: datetime
) -> FoldResult:
    """Fold one payload at once, in one transaction (retried on deadlock): for tests and tools
    that hold a payload in hand; the webhook appends to the inbox instead."""
    wire = WIRE.validate_python(payload.model_dump(by_alias=True))
    for attempt in range(DEADLOCK_RETRIES):
        try:
            async with transaction(pool) as conn:
                return await fold(conn, [wire], config, now)
        except asyncpg.DeadlockDetectedError:
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def fold(
    conn: Executor, payloads: list[WirePayload], config: AlertsRules, now: datetime
) -> FoldResult:
    """Fold payloads, oldest first, into alerts and groups (the caller's transaction): an alert
    that several payloads carry ends in the state of the last one."""
    group_by = config.grouping.group_by
    latest: dict[str, tuple[WireAlert, dict[str, str]]] = {}
    for payload in payloads:
        for alert in payload["alerts"]:
            labels = alert["labels"]
            if "alertname" not in labels:
                labels = {**labels, "alertname": "alert"}
            latest[identity(alert, labels)] = (alert, labels)
    groups: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}
    rank = KNOWN_SEVERITIES.index
    for fp, (alert, labels) in latest.items():
        if alert["status"] != "firing":
            continue
        severity = severity_of(labels)
        spec = config.group_for(
            labels["alertname"], labels, severity, config.alertmanager_channels, group_by
        )
        keys[fp] = spec["key"]
        found = groups.setdefault(spec["key"], spec)
        if rank(severity) < rank(found["severity"]):
            found["severity"] = severity
    group_ids = await store.open_groups(conn, list(groups.values()), now, config.grouping)
    rows = []
    for fp in sorted(latest):
        alert, labels = latest[fp]
        annotations = alert.get("annotations") or {}
        rows.append(
            {
                "fingerprint": fp,
                "alertname": labels["alertname"],
                "labels": labels,
                "annotations": annotations,
                "severity": severity_of(labels),
                "state": alert["status"],
                "starts_at": alert["startsAt"].isoformat(),
                "ends_at": _ends_at(alert),
                "generator_url": alert.get("generatorURL", ""),
                "runbook_url": annotations.get("runbook_url") or None,
                "external_fingerprint": alert.get("fingerprint") or None,
                "group_id": group_ids.get(keys.get(fp, "")),
            }
        )
    written = await conn.fetch(_UPSERT, json.dumps(rows), now) if rows else []
    resolved_groups = [r["group_id"] for r in written if r["state"] == "resolved" and r["group_id"]]
    await store.touch_groups(conn, resolved_groups, now, config.grouping)
    firing = sum(1 for r in written if r["state"] == "firing")
    return FoldResult(
        stored=len(written),
        firing=firing,
        resolved=len(written) - firing,
        ignored=len(rows) - len(written),
    )
