"""RULES_FILE `quarterly`: the seed's "Quarterly Deep Maintenance" table as checklists.

    quarterly:
      quarters:
        Q3:
          focus: Fraud Prevention
          tasks:
            - {key: retrain, title: ML model retraining, owner: fraud_analyst}

A quarter's tasks replace the seed's for that quarter; the other quarters keep theirs. Titles of
the seed's tasks are translated; titles written in RULES_FILE are shown as written.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from services.i18n import N_
from services.users import Role

QUARTERS = ("Q1", "Q2", "Q3", "Q4")


class TaskRule(BaseModel):
    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1, max_length=200)
    owner: Role


class QuarterPlan(BaseModel):
    focus: str = Field(min_length=1, max_length=100)
    outcome: str = ""
    tasks: list[TaskRule] = Field(min_length=1)

    @field_validator("tasks")
    @classmethod
    def _unique_keys(cls, value: list[TaskRule]) -> list[TaskRule]:
        keys = [t.key for t in value]
        if len(set(keys)) != len(keys):
            raise ValueError("task keys must be unique within a quarter")
        return value


def _t(key: str, title: str, owner: Role) -> TaskRule:
    return TaskRule(key=key, title=title, owner=owner)


def _default_quarters() -> dict[str, QuarterPlan]:
    """The seed's table: focus area, its activities (each owned by a role), expected outcome."""
    return {
        "Q1": QuarterPlan(
            focus=N_("Security & Compliance"),
            outcome=N_("Enhanced security posture"),
            tasks=[
                _t("pentest", N_("Penetration testing"), Role.SECURITY),
                _t("gdpr_audit", N_("GDPR audit"), Role.MANAGEMENT),
                _t("security_training", N_("Security training"), Role.SECURITY),
            ],
        ),
        "Q2": QuarterPlan(
            focus=N_("Performance & Scaling"),
            outcome=N_("Improved system performance"),
            tasks=[
                _t("load_testing", N_("Load testing"), Role.DEVOPS),
                _t("scaling", N_("Infrastructure scaling"), Role.DEVOPS),
                _t("optimization", N_("Performance optimization"), Role.SENIOR_ENGINEER),
            ],
        ),
        "Q3": QuarterPlan(
            focus=N_("Fraud Prevention"),
            outcome=N_("Reduced fraud rates"),
            tasks=[
                _t("retraining", N_("ML model retraining"), Role.FRAUD_ANALYST),
                _t("rules", N_("Fraud rule optimization"), Role.FRAUD_ANALYST),
                _t("patterns", N_("Fraud pattern analysis"), Role.FRAUD_ANALYST),
            ],
        ),
        "Q4": QuarterPlan(
            focus=N_("Documentation & Process"),
            outcome=N_("Improved operational efficiency"),
            tasks=[
                _t("docs", N_("Documentation updates"), Role.TECH_LEAD),
                _t("process", N_("Process refinement"), Role.ENGINEERING_MANAGER),
                _t("team_training", N_("Team training"), Role.ENGINEERING_MANAGER),
            ],
        ),
    }


class QuarterlyRules(BaseModel):
    quarters: dict[str, QuarterPlan] = Field(default_factory=_default_quarters)

    @field_validator("quarters")
    @classmethod
    def _every_quarter(cls, value: dict[str, QuarterPlan]) -> dict[str, QuarterPlan]:
        unknown = set(value) - set(QUARTERS)
        if unknown:
            raise ValueError(f"quarters are Q1..Q4, not {', '.join(sorted(unknown))}")
        return _default_quarters() | value

    def plan(self, quarter: str) -> QuarterPlan:
        return self.quarters[quarter[-2:]]


def quarter_of(moment: datetime, tz: ZoneInfo) -> str:
    """`2027Q1`: the quarter `moment` falls in, in the display time zone."""
    local = moment.astimezone(tz)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def first_day(quarter: str) -> date:
    year, number = int(quarter[:4]), int(quarter[-1])
    return date(year, 3 * (number - 1) + 1, 1)


def last_day(quarter: str) -> date:
    year, number = int(quarter[:4]), int(quarter[-1])
    if number == 4:
        return date(year, 12, 31)
    nxt = date(year, 3 * number + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def is_first_day(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).date()
    return local == first_day(quarter_of(moment, tz))
