"""The seam to the alert pipeline: a heartbeat that goes down is a firing alert
`HeartbeatDown{heartbeat="<name>"}`, joining its group like any other (so group_wait, silences,
maintenance windows, repeat, escalation and the buttons apply); back up, it is resolved.

Both run in the caller's transaction, next to the heartbeat's own state change.
"""

from __future__ import annotations

from datetime import datetime

from services.alerts import store as alerts
from services.alerts.config import AlertsRules
from services.alerts.evaluation import AlertState, fingerprint
from services.alerts.model import AlertWrite
from services.heartbeats.model import Heartbeat
from services.i18n import N_
from services.storage.types import Executor

ALERTNAME = "HeartbeatDown"
SOURCE = "heartbeat"
# The alert message shows these through the catalogue (services/alerts/render.py).
SUMMARIES = {
    "fail": N_("The job behind this heartbeat reported a failure."),
    "missed": N_("The job behind this heartbeat did not check in on time."),
}


def labels_of(hb: Heartbeat) -> dict[str, str]:
    return {"alertname": ALERTNAME, "heartbeat": hb.name, "severity": hb.severity}


async def went_down(db: Executor, hb: Heartbeat, now: datetime, config: AlertsRules) -> None:
    labels = labels_of(hb)
    # the routing tree's group when there is one (receivers, timings), else by group_by
    spec = config.group_for(ALERTNAME, labels, hb.severity, ["telegram"], config.grouping.group_by)
    key = spec["key"]
    ids = await alerts.open_groups(db, [spec], now, config.grouping)
    await alerts.save_alert(
        db,
        AlertWrite(
            fingerprint=fingerprint(labels),
            source=SOURCE,
            alertname=ALERTNAME,
            labels=labels,
            annotations={"summary": SUMMARIES.get(hb.down_reason or "missed", SUMMARIES["missed"])},
            severity=hb.severity,
            state=AlertState("firing", active_since=now, fired_at=now, last_true_at=now),
            value=None,
            threshold=None,
            comparison=None,
            evaluated_at=now,
            group_id=ids[key],
        ),
    )


async def went_up(db: Executor, hb: Heartbeat, now: datetime, config: AlertsRules) -> None:
    """Resolve the check's firing alert, if any (a paused or removed check resolves it too)."""
    # by name, not fingerprint: a severity changed in RULES_FILE while down changes the labels
    group_ids = await db.fetch(
        """
        UPDATE alerts SET state = 'resolved', resolved_at = $3, evaluated_at = $3, updated_at = $3
        WHERE source = 'heartbeat' AND alertname = $1 AND labels->>'heartbeat' = $2
          AND state = 'firing'
        RETURNING group_id
        """,
        ALERTNAME,
        hb.name,
        now,
    )
    if group_ids:
        await alerts.touch_groups(
            db, [r["group_id"] for r in group_ids if r["group_id"]], now, config.grouping
        )
