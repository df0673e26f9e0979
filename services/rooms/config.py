"""RULES_FILE `rooms:` and the rooms feature's context (built once by the assembly)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from services.escalation.context import EscalationContext
from services.reports.quickcart import QuickCartDatabase


def _default_rhythm() -> dict[str, int]:
    return {"P0": 30, "P1": 60}


class RoomsRules(BaseModel):
    """Every field defaults to what incident tools made standard."""

    # minutes without an update after which the lead is reminded (then, as long again, the
    # next level); a priority not listed has no rhythm
    update_minutes: dict[str, int] = Field(default_factory=_default_rhythm)
    postmortem_priorities: list[str] = Field(default_factory=lambda: ["P0", "P1"])
    scan_seconds: float = Field(default=5.0, gt=0, le=300)
    pin_emoji: str = "📌"
    max_recreations: int = Field(default=5, ge=0)  # per incident: a chat that keeps refusing
    summary_update_chars: int = Field(default=500, ge=50, le=2000)

    def rhythm(self, priority: str) -> int | None:
        minutes = self.update_minutes.get(priority)
        return minutes if minutes and minutes > 0 else None


@dataclass(frozen=True)
class RoomsContext:
    escalation: EscalationContext
    rules: RoomsRules
    chat_id: int | None  # where rooms open: INCIDENT_CHAT_ID, else the admin chat
    quickcart: QuickCartDatabase | None = None  # payments failed during the incident

    @classmethod
    def build(
        cls,
        escalation: EscalationContext,
        rules: RoomsRules,
        *,
        incident_chat_id: int | None,
        quickcart: QuickCartDatabase | None = None,
    ) -> RoomsContext:
        chat = incident_chat_id if incident_chat_id is not None else escalation.admin_chat_id
        return cls(escalation=escalation, rules=rules, chat_id=chat, quickcart=quickcart)
