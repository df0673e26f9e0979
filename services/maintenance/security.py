"""Security review from the audit log: refusals, odd-hour commands, new staff, role changes,
silences. What stands out is listed as anomalies for the weekly (and monthly) review."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from services import audit
from services.results import as_json
from services.storage.types import Executor


class SecurityPolicy(BaseModel):
    """RULES_FILE `maintenance.security`."""

    quiet_hours: str = "22:00-06:00"  # in TIMEZONE: privileged commands here are unusual
    refusals_per_person: int = 3  # this many refused actions by one person is an anomaly
    role_action_markers: list[str] = ["role", "staff.add", "staff.remove"]


@dataclass
class SecurityReview:
    refused: int = 0
    refused_by_actor: dict[int, int] = field(default_factory=dict)
    unusual_hours: int = 0
    new_staff: list[dict[str, Any]] = field(default_factory=list)
    role_changes: int = 0
    silences: int = 0
    privileged: int = 0
    anomalies: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        by_actor = {str(k): v for k, v in self.refused_by_actor.items()}
        return as_json(self, refused_by_actor=by_actor)


def _quiet(at: datetime, tz: ZoneInfo, spec: str) -> bool:
    start_s, _, end_s = spec.partition("-")
    start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    local = at.astimezone(tz).time()
    return start <= local < end if start <= end else (local >= start or local < end)


async def review(
    db: Executor, since: datetime, until: datetime, tz: ZoneInfo, policy: SecurityPolicy
) -> SecurityReview:
    entries = [e for e in await audit.entries_since(db, since) if e.at < until]
    result = SecurityReview()
    refusals: Counter[int] = Counter()
    for entry in entries:
        if not entry.allowed:
            result.refused += 1
            if entry.actor_id is not None:
                refusals[entry.actor_id] += 1
            continue
        result.privileged += 1
        if any(marker in entry.action for marker in policy.role_action_markers):
            result.role_changes += 1
            result.anomalies.append(
                {
                    "kind": "role_change",
                    "actor": entry.actor_id,
                    "action": entry.action,
                    "target": entry.target,
                    "at": entry.at.isoformat(),
                }
            )
        if _quiet(entry.at, tz, policy.quiet_hours):
            result.unusual_hours += 1
            result.anomalies.append(
                {
                    "kind": "unusual_hour",
                    "actor": entry.actor_id,
                    "action": entry.action,
                    "at": entry.at.isoformat(),
                }
            )
    result.refused_by_actor = dict(refusals)
    for actor, count in refusals.items():
        if count >= policy.refusals_per_person:
            result.anomalies.append({"kind": "refusals", "actor": actor, "count": count})
    for row in await db.fetch(
        "SELECT user_id, display_name, roles, added_by, added_at FROM staff "
        "WHERE added_at >= $1 AND added_at < $2 ORDER BY added_at",
        since,
        until,
    ):
        person = {
            "user_id": row["user_id"],
            "name": row["display_name"],
            "roles": list(row["roles"]),
            "added_by": row["added_by"],
        }
        result.new_staff.append(person)
        result.anomalies.append({"kind": "new_staff", **person})
    if await db.fetchval("SELECT to_regclass('alert_silences') IS NOT NULL"):
        result.silences = int(
            await db.fetchval(
                "SELECT count(*) FROM alert_silences WHERE created_at >= $1 AND created_at < $2",
                since,
                until,
            )
        )
    return result
