"""Escalate on an alert -> an incident at level 1 of `services.escalation`.

Adapts that feature's `open_incident` to this package's `OpenIncident` seam; the alert's
severity maps to a priority (critical P0, warning P1, info P2).
"""

from __future__ import annotations

from typing import Any

from services.alerts.incidents import IncidentRequest, OpenIncident
from services.clock import Clock
from services.storage.types import Executor
from services.users import Person

PRIORITY_OF_SEVERITY = {"critical": "P0", "warning": "P1", "info": "P2"}


def incident_opener(
    clock: Clock, context: Any, actor: Person | None, chat_id: int | None
) -> OpenIncident:
    """`context` is a `services.escalation.context.EscalationContext`."""

    async def open_from_alert(db: Executor, request: IncidentRequest) -> int:
        from services.escalation import incidents

        labels = ", ".join(f"{k}={v}" for k, v in sorted(request.labels.items()))
        outcome = await incidents.open_incident(
            db,  # type: ignore[arg-type]
            clock,
            context,
            source="alert",
            title=f"Alert {request.title}"[:200],
            priority=PRIORITY_OF_SEVERITY.get(request.severity, "P2"),
            actor=actor,
            description=f"{request.summary}\n{labels}".strip(),
            chat_id=chat_id,
        )
        ticket_id: int = outcome.incident.ticket_id
        return ticket_id

    return open_from_alert
