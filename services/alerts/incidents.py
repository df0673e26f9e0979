"""The seam to the escalation feature: Escalate on an alert opens an incident at level 1.

`services.alerts` does not import the escalation service; the assembly passes a function of
this shape (see `handlers/alerts.py`, which wires `services.escalation` when it exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.storage.types import Executor


@dataclass(frozen=True)
class IncidentRequest:
    group_id: int
    title: str  # the alert name
    severity: str  # critical / warning / info
    summary: str
    labels: dict[str, str]
    opened_by: int | None  # None: opened automatically (unacknowledged P0 at repeat time)
    opened_at: datetime


class OpenIncident(Protocol):
    async def __call__(self, db: Executor, request: IncidentRequest) -> int:
        """Open an incident at level 1 of the escalation tree; return its id."""
        ...


class EscalationUnavailable(Exception):
    """No escalation service is wired in."""
