"""RULES_FILE section `support`: abuse limits, reopen and auto-close windows, reference shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, Field

from services.classification import ClassificationRules
from services.escalation.policy import EscalationRules
from services.patterns import check_pattern, compile_pattern
from services.rules import Rules
from services.sla import SlaRules


class ReferenceShape(BaseModel):
    name: str  # shown to the customer: "QuickCart order"
    # a full-match regular expression (RE2 syntax) on the upper-cased reference; a pattern RE2
    # cannot compile makes the rules file refused at start, naming the field and the reason
    pattern: Annotated[str, AfterValidator(check_pattern)]
    example: str


class SupportRules(BaseModel):
    limits_enabled: bool = True
    new_tickets_per_hour: int = Field(default=5, ge=1)
    messages_per_minute: int = Field(default=20, ge=1)
    reopen_days: int = Field(default=7, ge=0)
    auto_close_days: int = Field(default=7, ge=1)
    subject_length: int = Field(default=60, ge=10)
    # A ticket's card is edited at most once per this many seconds (later changes fold into
    # the edit already waiting): a busy ticket or a deadline storm never floods the group.
    card_edit_seconds: int = Field(default=60, ge=0)
    # ...except that what a person just did (a button, a command, an answer, a customer's
    # message) shows at once, unless the card was edited less than this many seconds ago.
    # The topic's title changes at the slower pace only: each rename is a line in the group.
    card_edit_after_action_seconds: int = Field(default=3, ge=0)
    # The card quotes this much of the description; a longer one follows it in the topic whole.
    card_description_length: int = Field(default=1500, ge=100, le=3000)
    reference_shapes: list[ReferenceShape] = Field(
        default_factory=lambda: [
            # QuickCart's order ids: ORD-<yyyymmdd>-<6 letters/digits>
            ReferenceShape(
                name="QuickCart order",
                pattern=r"ORD-\d{8}-[A-Z0-9]{6}",
                example="ORD-20261102-7F3K9Q",
            ),
            # Pakasir's order ids as QuickCart creates them: INV<digits>
            ReferenceShape(name="Pakasir payment", pattern=r"INV\d{6,14}", example="INV2026110201"),
        ]
    )


@dataclass(frozen=True)
class ReferenceCheck:
    ok: bool
    normalized: str
    shape: str | None = None


def check_reference(text: str, rules: SupportRules) -> ReferenceCheck:
    """Upper-cased, inner spaces removed, then matched whole against each shape."""
    normalized = re.sub(r"\s+", "", text).upper()
    for shape in rules.reference_shapes:
        if compile_pattern(shape.pattern).fullmatch(normalized):
            return ReferenceCheck(True, normalized, shape.name)
    return ReferenceCheck(False, normalized)


@dataclass(frozen=True)
class DeskConfig:
    """What the desk needs from settings and RULES_FILE, built from them by `DeskConfig.build`
    (services do not import `bot.settings`: the caller passes the values)."""

    support_chat_id: int | None
    tz: ZoneInfo
    staff_locale: str
    support: SupportRules
    classification: ClassificationRules
    sla: SlaRules
    # the escalation tree: whom a missed deadline is told, what a card's level is called
    escalation: EscalationRules = field(default_factory=EscalationRules)

    @classmethod
    def build(
        cls,
        *,
        support_chat_id: int | None,
        timezone: str,
        staff_locale: str,
        rules: Rules | None = None,
    ) -> DeskConfig:
        rules = rules or Rules()
        return cls(
            support_chat_id=support_chat_id,
            tz=ZoneInfo(timezone),
            staff_locale=staff_locale,
            support=rules.section("support", SupportRules),
            classification=rules.section("classification", ClassificationRules),
            sla=rules.section("sla", SlaRules),
            escalation=rules.section("escalation", EscalationRules),
        )
