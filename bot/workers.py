"""Background workers, each owned by one aiohttp cleanup context (start, yield, stop).

They start after the stores and the Bot exist and stop before them. A worker that crashes is
logged and restarted after a pause: a monitoring bot must not go quiet because one loop failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from aiogram import Bot
from aiohttp import web
from loguru import logger

from bot.embedded import pg_bin
from bot.keys import BOT, CLOCK, POOL, REDIS, RULES, SERVER_URL, SETTINGS
from bot.sender import AiogramSender
from handlers import escalation, support
from jobs.context import JobDeps
from jobs.scheduler import running_scheduler
from services.alerts.config import AlertsRules
from services.checks.config import targets_from_settings
from services.delivery.config import DeliveryConfig
from services.delivery.hooks import DeliveryHooks
from services.delivery.not_started import NotStartedWatch
from services.delivery.worker import DeliveryWorker
from services.email import intake
from services.email.config import EmailConfig
from services.email.inbound import MailboxReader
from services.email.outbound import FileFetcher, MailSender
from services.escalation.delivery import IncidentDeliveryHook
from services.escalation.notify import EscalationContext
from services.escalation.scan import EscalationWorker
from services.inbox.config import InboxConfig
from services.oncall.actions import OncallContext
from services.oncall.handoffs import OncallWorker
from services.tickets.config import DeskConfig
from services.tickets.delivery import TicketDeliveryHook
from services.tickets.flood import DeskFlood

RESTART_PAUSE = 5.0


class Worker(Protocol):
    async def run(self) -> None: ...


async def supervise(name: str, worker: Worker, stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await worker.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("worker {} crashed; restarting in {}s", name, RESTART_PAUSE)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), RESTART_PAUSE)


async def owned(
    name: str, worker: Worker, stop: Callable[[], Awaitable[None] | None]
) -> AsyncIterator[None]:
    stopping = asyncio.Event()
    task = asyncio.create_task(supervise(name, worker, stopping), name=name)
    yield
    stopping.set()
    result = stop()
    if result is not None:
        await result
    try:
        await asyncio.wait_for(task, 10)
    except TimeoutError:
        logger.warning("worker {} did not stop in 10 s; cancelled", name)


def desk_config(app: web.Application) -> DeskConfig:
    return support.desk_config(app[SETTINGS], app[RULES])


def flood_teller(app: web.Application) -> DeskFlood:
    """What the desk does with a customer's updates refused at the door as a flood."""
    flood = app[RULES].section("inbox", InboxConfig).flood
    return DeskFlood(app[POOL], desk_config(app), app[CLOCK], flood.window_seconds)


def escalation_context(app: web.Application) -> EscalationContext:
    return escalation.escalation_context(app[SETTINGS], app[RULES])


def delivery_config(app: web.Application) -> DeliveryConfig:
    config = app[RULES].section("delivery", DeliveryConfig)
    return config.model_copy(update={"admin_chat_id": app[SETTINGS].ADMIN_CHAT_ID})


async def delivery_ctx(app: web.Application) -> AsyncIterator[None]:
    hooks = DeliveryHooks()
    hooks.register("ticket", TicketDeliveryHook(desk_config(app), app[CLOCK]))
    hooks.register("incident", IncidentDeliveryHook(escalation_context(app)))
    hooks.watch(NotStartedWatch(app[SETTINGS].ADMIN_CHAT_ID))
    worker = DeliveryWorker(
        app[POOL], app[REDIS], AiogramSender(app[BOT]), app[CLOCK], delivery_config(app), hooks
    )
    async for _ in owned("delivery", worker, worker.stop):
        yield


async def escalation_ctx(app: web.Application) -> AsyncIterator[None]:
    worker = EscalationWorker(app[POOL], app[CLOCK], escalation_context(app))
    async for _ in owned("escalation", worker, worker.stop):
        yield


def oncall_context(app: web.Application) -> OncallContext:
    settings = app[SETTINGS]
    return OncallContext.build(
        app[RULES],
        timezone=settings.TIMEZONE,
        admin_chat_id=settings.ADMIN_CHAT_ID,
        default_locale=settings.DEFAULT_LOCALE,
        calendar_base=settings.public_base_url(),
    )


async def oncall_ctx(app: web.Application) -> AsyncIterator[None]:
    sms = app[RULES].section("alerts", AlertsRules).channels.sms
    ctx = oncall_context(app)
    worker = OncallWorker(app[POOL], app[CLOCK], ctx, sms, every=ctx.rules.scan_seconds)
    async for _ in owned("oncall", worker, worker.stop):
        yield


def job_deps(app: web.Application) -> JobDeps:
    settings = app[SETTINGS]
    return JobDeps(
        pool=app[POOL],
        rules=app[RULES],
        clock=app[CLOCK],
        timezone=settings.TIMEZONE,
        admin_chat_id=settings.ADMIN_CHAT_ID,
        support_chat_id=settings.SUPPORT_CHAT_ID,
        default_locale=settings.DEFAULT_LOCALE,
        targets=targets_from_settings(settings, pg_restore_bin=pg_bin("pg_restore")),
        redis=app[REDIS],
        restore_server_url=app[SERVER_URL],
    )


# Whether missed maintenance slots are caught up at start (tests that are not about the
# schedule switch it off, so a story is not interleaved with last night's jobs).
CATCH_UP_ON_START = web.AppKey("catch_up_on_start", bool)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    catch_up = app.get(CATCH_UP_ON_START, True)
    async with running_scheduler(job_deps(app), catch_up_on_start=catch_up):
        yield


def email_config(app: web.Application) -> EmailConfig | None:
    settings = app[SETTINGS]
    return EmailConfig.from_urls(settings.SUPPORT_EMAIL, settings.IMAP_URL, settings.SMTP_URL)


def telegram_files(bot: Bot) -> FileFetcher:
    """A file staff sent in a ticket's topic, fetched from Telegram to go along by e-mail."""

    async def fetch(file_id: str) -> tuple[bytes, str]:
        found = await bot.get_file(file_id)
        data = await bot.download_file(found.file_path or "")
        assert data is not None
        name = (found.file_path or "file").rsplit("/", 1)[-1]
        return data.read(), name

    return fetch


async def email_ctx(app: web.Application) -> AsyncIterator[None]:
    """The e-mail channel, when SUPPORT_EMAIL, IMAP_URL and SMTP_URL are all set: the mailbox
    reader (store, flag, take into the desk) and the SMTP sender of replies."""
    cfg = email_config(app)
    if cfg is None:
        yield
        return
    pool, redis, clock = app[POOL], app[REDIS], app[CLOCK]
    desk = desk_config(app)

    async def take_in() -> object:
        return await intake.handle_stored(pool, redis, desk, cfg, clock)

    reader = MailboxReader(pool, cfg, clock, take_in)
    sender = MailSender(pool, cfg, clock, telegram_files(app[BOT]), desk)
    async for _ in owned("email-in", reader, reader.stop):
        async for _ in owned("email-out", sender, sender.stop):
            yield


def worker_contexts() -> list[Callable[[web.Application], AsyncIterator[None]]]:
    from bot.monitor import monitor_ctx

    return [delivery_ctx, escalation_ctx, oncall_ctx, monitor_ctx, scheduler_ctx, email_ctx]
