"""The assembly: every feature's configuration built once, from Settings and RULES_FILE.

`assemble` runs when the stores are up (bot/runtime.py `stores_ctx`, and the `jobs` command).
What it builds goes, unchanged, to the Dispatcher's workflow data (handlers receive each
object by the name in `Features.workflow`), to the background workers, to the monitoring loop
and to the web routes. Nothing downstream reads Settings or RULES_FILE again, so a feature's
config has one builder, and a handler never rebuilds one per update.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar
from zoneinfo import ZoneInfo

import asyncpg
from redis.asyncio import Redis

from bot.embedded import pg_bin
from bot.settings import Settings
from jobs.context import JobDeps
from services.alerts.config import SECTION as ALERTS
from services.alerts.config import AlertsRules
from services.alerts.outbound import Audience
from services.alerts.storm import Budget
from services.chats import StaffChats
from services.checks.config import ChecksContext, ChecksRules, Targets, targets_from_settings
from services.clock import Clock
from services.delivery.config import DeliveryConfig
from services.email.config import EmailConfig
from services.escalation.context import EscalationContext, make_context
from services.heartbeats.config import SECTION as HEARTBEATS
from services.heartbeats.config import HeartbeatsRules, PingDoor
from services.inbox.config import InboxConfig
from services.massincident.config import MassContext, MassRules
from services.oncall.actions import OncallContext
from services.quarterly.actions import QuarterContext
from services.quarterly.config import QuarterlyRules
from services.reports.build import quickcart_database
from services.rooms.config import RoomsContext, RoomsRules
from services.rooms.room import opener as room_opener
from services.rules import Rules
from services.tickets.config import DeskConfig


def check_targets(settings: Settings) -> Targets:
    """What the probes and the backup jobs look at; pg_restore from the embedded PostgreSQL
    wheel, so /health, the monitoring loop, the jobs and the CLI all find the same one."""
    return targets_from_settings(settings, pg_restore_bin=pg_bin("pg_restore"))


@dataclass(frozen=True)
class Features:
    """What the handlers, workers, monitoring loop and web routes are given, built once."""

    tz: ZoneInfo
    chats: StaffChats
    desk_config: DeskConfig
    escalation_context: EscalationContext
    audience: Audience
    alerts_rules: AlertsRules
    checks: ChecksContext
    heartbeats_rules: HeartbeatsRules
    ping_door: PingDoor
    delivery: DeliveryConfig
    inbox: InboxConfig
    oncall: OncallContext
    quarter_context: QuarterContext
    email: EmailConfig | None
    job_deps: JobDeps
    rooms: RoomsContext
    mass: MassContext

    # what handlers receive by name (aiogram's workflow data); the rest is for workers
    HANDED_TO_HANDLERS: ClassVar[tuple[str, ...]] = (
        "tz", "chats", "desk_config", "escalation_context", "audience", "alerts_rules",
        "checks", "heartbeats_rules", "ping_door", "oncall",
        "quarter_context", "email", "job_deps", "rooms", "mass",
    )  # fmt: skip

    def workflow(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.HANDED_TO_HANDLERS}


def assemble(
    settings: Settings,
    rules: Rules,
    *,
    pool: asyncpg.Pool,
    clock: Clock,
    redis: Redis | None,
    restore_server_url: str | None,
) -> Features:
    """Every feature's dependencies from the settings and RULES_FILE (the one place)."""
    tz = ZoneInfo(settings.TIMEZONE)
    escalation = make_context(
        rules,
        timezone=settings.TIMEZONE,
        admin_chat_id=settings.ADMIN_CHAT_ID,
        support_chat_id=settings.SUPPORT_CHAT_ID,
        default_locale=settings.DEFAULT_LOCALE,
    )
    rooms = RoomsContext.build(
        escalation,
        rules.section("rooms", RoomsRules),
        incident_chat_id=settings.INCIDENT_CHAT_ID,
        quickcart=quickcart_database(check_targets(settings), rules.section("checks", ChecksRules)),
    )
    # an incident's room opens in the transaction that opens the incident
    escalation = replace(escalation, on_open=room_opener(rooms))
    targets = check_targets(settings)
    delivery = rules.section("delivery", DeliveryConfig)
    return Features(
        tz=tz,
        chats=StaffChats(
            admin=settings.ADMIN_CHAT_ID,
            support=settings.SUPPORT_CHAT_ID,
            security=settings.SECURITY_CHAT_ID,
            incidents=settings.INCIDENT_CHAT_ID,
        ),
        desk_config=escalation.desk_config(),
        escalation_context=escalation,
        audience=Audience(
            settings.ADMIN_CHAT_ID,
            settings.DEFAULT_LOCALE,
            tz,
            support_chat_id=settings.SUPPORT_CHAT_ID,
            security_chat_id=settings.SECURITY_CHAT_ID,
            # the admin chat's send budget as the delivery worker keeps it: a storm beyond it
            budget=Budget(delivery.limits.group_per_minute, delivery.limits.group_window_seconds),
        ),
        alerts_rules=rules.section(ALERTS, AlertsRules),
        checks=ChecksContext(targets, rules.section("checks", ChecksRules), tz),
        heartbeats_rules=rules.section(HEARTBEATS, HeartbeatsRules),
        ping_door=PingDoor(settings.ping_base_url, settings.TIMEZONE),
        delivery=delivery.model_copy(update={"admin_chat_id": settings.ADMIN_CHAT_ID}),
        inbox=rules.section("inbox", InboxConfig),
        oncall=OncallContext.build(
            rules,
            timezone=settings.TIMEZONE,
            admin_chat_id=settings.ADMIN_CHAT_ID,
            default_locale=settings.DEFAULT_LOCALE,
            calendar_base=settings.public_base_url(),
        ),
        quarter_context=QuarterContext(
            rules=rules.section("quarterly", QuarterlyRules),
            tz=tz,
            admin_chat_id=settings.ADMIN_CHAT_ID,
            default_locale=settings.DEFAULT_LOCALE,
        ),
        email=EmailConfig.from_urls(
            settings.SUPPORT_EMAIL,
            settings.IMAP_URL,
            settings.SMTP_URL,
            ca_file=str(settings.EMAIL_CA_FILE) if settings.EMAIL_CA_FILE else None,
        ),
        job_deps=JobDeps(
            pool=pool,
            rules=rules,
            clock=clock,
            timezone=settings.TIMEZONE,
            admin_chat_id=settings.ADMIN_CHAT_ID,
            support_chat_id=settings.SUPPORT_CHAT_ID,
            default_locale=settings.DEFAULT_LOCALE,
            targets=targets,
            redis=redis,
            restore_server_url=restore_server_url,
            desk=escalation.desk_config(),
        ),
        rooms=rooms,
        mass=MassContext(escalation, rules.section("mass_incidents", MassRules)),
    )
