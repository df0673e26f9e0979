"""What the mass-incident feature needs, built once by the assembly (bot/features)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from services.classification import ClassificationRules
from services.escalation.context import EscalationContext
from services.tickets.config import DeskConfig


class MassRules(BaseModel):
    """RULES_FILE section `mass_incidents`."""

    model_config = ConfigDict(frozen=True)

    # the proposal: N tickets of one category within M minutes
    propose_tickets: int = Field(default=10, ge=2)
    propose_minutes: int = Field(default=10, ge=1)
    # ...or fewer while an alert of a customer-facing kind is firing (alertname -> category)
    propose_with_alert_tickets: int = Field(default=3, ge=1)
    customer_facing_alerts: dict[str, str] = Field(
        default_factory=lambda: {
            # the bot's own rules (services/alerts/default_rules.yaml)
            "PakasirUptimeLow": "payment",
            "PaymentSuccessRateLow": "payment",
            "PakasirSlow": "payment",
            "PaymentTimeHigh": "payment",
            "SessionSuccessRateLow": "account",
            # names QuickCart's own Alertmanager may push
            "PakasirDown": "payment",
            "PaymentGatewayDown": "payment",
        }
    )
    scan_seconds: float = Field(default=15.0, gt=0)
    # the card: at most one edit per this many seconds per staff chat
    card_edit_seconds: float = Field(default=15.0, ge=0)
    # a resolved link reopens into a normal ticket when the customer writes within these days
    reopen_days: int = Field(default=7, ge=0)
    # follow-ups: one digest message in the incident's topic takes this many lines
    digest_lines: int = Field(default=15, ge=1)
    # the card's "last few names"
    card_names: int = Field(default=5, ge=0)


@dataclass(frozen=True)
class MassContext:
    escalation: EscalationContext
    rules: MassRules = field(default_factory=MassRules)

    @property
    def desk(self) -> DeskConfig:
        return self.escalation.desk_config()

    @property
    def classification(self) -> ClassificationRules:
        return self.desk.classification

    @property
    def support_chat_id(self) -> int | None:
        return self.escalation.support_chat_id

    @property
    def admin_chat_id(self) -> int | None:
        return self.escalation.admin_chat_id
