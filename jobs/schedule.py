"""When each maintenance job runs: the seed's schedule as defaults, RULES_FILE `schedule` on top.

Which time wins where the seed's two tables overlap. The seed schedules the same work twice:
in the human tables ("Daily Maintenance Tasks", "Weekly Maintenance Schedule") and in the
machine-readable `AUTOMATION_SCHEDULE`. Where both name the same *work*, the
`AUTOMATION_SCHEDULE` time wins and the job exists once: it is the seed's own automation
(it gives an exact time where the weekly table gives only a day), and it puts the work in the
night, which the seed's closing note demands ("scheduled during low-traffic periods").
So dependency review runs Sunday 01:00 (not Monday), database maintenance Sunday 02:00 (not
Tuesday: VACUUM and REINDEX belong in the quietest hour of the week) and the security review
Monday 03:00 (not Wednesday). Where the human table asks for something different, a report to
people at the start of their day, that is kept as its own job: backup verification works at
04:00 and its report is pushed at 07:30; cache cleanup works at 03:00 and its report comes at
08:00; 06:00 is the same in both tables (health check and report). `fraud_model_update`
(1st, 00:00) is the same task as `MonthlyMaintenance.fraud_model_update`, so it runs once,
inside `monthly_maintenance` at that time. The weekly table's other days, which no automation
names, get an early-morning time (05:00) so their findings wait for people at the start of the
day; Sunday's system-updates checklist is a reminder for people and comes at 09:00.

Override any job in RULES_FILE:

    schedule:
      jobs:
        database_maintenance: {every: week, day: tue, at: "02:30"}
        compliance_report: {cron: "0 22 L * *"}      # crontab: minute hour day month weekday
        fraud_review: {enabled: false}
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class JobTiming(BaseModel):
    """One job's time. `date: -1` is the last day of the month, whatever its length."""

    every: Literal["day", "week", "month"] = "day"
    at: str = "03:00"
    day: Weekday | None = None  # every: week
    date: int | None = None  # every: month; 1..31 or -1
    cron: str | None = None  # a crontab line wins over the fields above
    enabled: bool = True
    grace_minutes: int = 180  # a run missed by less than this is caught up once on start

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM (24 h), e.g. 03:00")
        return value

    @field_validator("date")
    @classmethod
    def _date(cls, value: int | None) -> int | None:
        if value is not None and not (value == -1 or 1 <= value <= 31):
            raise ValueError("must be 1..31, or -1 for the last day of the month")
        return value

    @model_validator(mode="after")
    def _complete(self) -> JobTiming:
        if self.cron is None:
            if self.every == "week" and self.day is None:
                raise ValueError("a weekly job needs `day`")
            if self.every == "month" and self.date is None:
                raise ValueError("a monthly job needs `date`")
        return self

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        if self.cron:
            return _crontab(self.cron, tz)
        hour, minute = (int(part) for part in self.at.split(":"))
        if self.every == "week":
            return CronTrigger(day_of_week=self.day, hour=hour, minute=minute, timezone=tz)
        if self.every == "month":
            day = "last" if self.date == -1 else str(self.date)
            return CronTrigger(day=day, hour=hour, minute=minute, timezone=tz)
        return CronTrigger(hour=hour, minute=minute, timezone=tz)

    def describe(self) -> str:
        """Language-neutral: `daily 03:00`, `sun 02:00`, `day -1 23:00`, or the crontab."""
        if self.cron:
            return f"cron {self.cron}"
        if self.every == "week":
            return f"{self.day} {self.at}"
        if self.every == "month":
            return f"day {self.date} {self.at}"
        return f"daily {self.at}"


def _crontab(line: str, tz: ZoneInfo) -> CronTrigger:
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"crontab {line!r} must have 5 fields")
    minute, hour, day, month, weekday = fields
    day = "last" if day.upper() == "L" else day
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=tz
    )


def _daily(at: str, grace: int = 180) -> JobTiming:
    return JobTiming(every="day", at=at, grace_minutes=grace)


def _weekly(day: Weekday, at: str, grace: int = 12 * 60) -> JobTiming:
    return JobTiming(every="week", day=day, at=at, grace_minutes=grace)


def _monthly(date: int, at: str, grace: int = 24 * 60) -> JobTiming:
    return JobTiming(every="month", date=date, at=at, grace_minutes=grace)


# The seed's schedule, in TIMEZONE. The names are the registry's (jobs/registry.py).
DEFAULT_SCHEDULE: dict[str, JobTiming] = {
    # AUTOMATION_SCHEDULE daily, then the daily table
    "log_rotation": _daily("02:00"),
    # not in the seed: the support desk closes tickets resolved 7 days ago (issue 4)
    "ticket_auto_close": _daily("01:30"),
    "cache_cleanup": _daily("03:00"),
    "backup_verification": _daily("04:00"),
    "health_check_report": _daily("06:00", grace=60),
    "database_health": _daily("06:15", grace=60),
    "payment_check": _daily("06:30", grace=60),
    "log_analysis": _daily("07:00", grace=60),
    "backup_verification_report": _daily("07:30", grace=120),
    "cache_cleanup_report": _daily("08:00", grace=120),
    # AUTOMATION_SCHEDULE weekly (wins over the weekly table's Monday / Tuesday / Wednesday)
    "dependency_review": _weekly("sun", "01:00"),
    "database_maintenance": _weekly("sun", "02:00", grace=3 * 60),
    "security_review": _weekly("mon", "03:00"),
    # the weekly table's other days
    "performance_analysis": _weekly("thu", "05:00"),
    "fraud_review": _weekly("fri", "05:00"),
    "backup_restore_test": _weekly("sat", "05:00"),
    "system_updates_checklist": _weekly("sun", "09:00"),
    "weekly_report": _weekly("mon", "08:00"),
    # AUTOMATION_SCHEDULE monthly + MonthlyMaintenance
    "monthly_maintenance": _monthly(1, "00:00"),
    "compliance_report": _monthly(-1, "23:00", grace=12 * 60),
    # Quarterly Deep Maintenance: the checklist on the quarter's first day (and the last
    # quarter's report), its open tasks reminded to their owners every Monday morning
    "quarterly_checklist": JobTiming(cron="5 0 1 1,4,7,10 *", grace_minutes=24 * 60),
    "quarterly_reminders": _weekly("mon", "09:00"),
}


class ScheduleRules(BaseModel):
    """RULES_FILE section `schedule`: per-job overrides, merged field by field over the seed's."""

    jobs: dict[str, dict[str, object]] = {}


def effective_schedule(rules: ScheduleRules | None = None) -> dict[str, JobTiming]:
    """The seed's schedule with the overrides applied; unknown job names are an error."""
    result = dict(DEFAULT_SCHEDULE)
    for name, override in (rules.jobs if rules else {}).items():
        if name not in result:
            known = ", ".join(sorted(DEFAULT_SCHEDULE))
            raise ValueError(f"schedule.jobs.{name}: no such job (known: {known})")
        merged = result[name].model_dump()
        if "cron" in override or "every" in override:
            # a new shape replaces the old one's fields instead of mixing with them
            merged.update(day=None, date=None, cron=None)
        merged.update(override)
        result[name] = JobTiming.model_validate(merged)
    return result


def next_run(timing: JobTiming, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first slot strictly after `after`, in `tz`."""
    trigger = timing.trigger(tz)
    fire: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return fire


def last_slot(
    timing: JobTiming, tz: ZoneInfo, now: datetime, lookback: timedelta
) -> datetime | None:
    """The newest slot in (now - lookback, now]: the one a run starting now belongs to."""
    trigger = timing.trigger(tz)
    latest: datetime | None = None
    fire: datetime | None = trigger.get_next_fire_time(None, now - lookback)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest


def slots_between(
    timing: JobTiming, tz: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Every slot in [start, end) (tests, and how many runs a downtime missed)."""
    trigger = timing.trigger(tz)
    found: list[datetime] = []
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return found
