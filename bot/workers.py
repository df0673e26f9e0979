"""Background workers, each owned by one aiohttp cleanup context (start, yield, stop).

They start after the stores, the assembly and the Bot exist, and stop before them (supervised by
bot/supervision.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiogram import Bot
from aiohttp import web

from bot.keys import ALERT_INBOX, BOT, CLOCK, DELIVERY, FEATURES, POOL, REDIS
from bot.monitor import monitor_ctx
from bot.sender import AiogramSender
from bot.supervision import owned
from jobs.scheduler import running_scheduler
from services.alerts.inbox import AlertInboxWorker
from services.delivery.hooks import DeliveryHooks
from services.delivery.not_started import NotStartedWatch
from services.delivery.worker import DeliveryWorker
from services.email import intake
from services.email.inbound import MailboxReader
from services.email.smtp import FileFetcher, MailSender
from services.escalation.delivery import IncidentDeliveryHook
from services.escalation.scan import EscalationWorker
from services.massincident.delivery import FanOutDeliveryHook
from services.massincident.propose import ProposalWorker
from services.oncall.handoffs import OncallWorker
from services.rooms.delivery import RoomDeliveryHook
from services.rooms.sync import RoomsWorker
from services.tickets.delivery import TicketDeliveryHook
from services.tickets.flood import DeskFlood


def flood_teller(app: web.Application) -> DeskFlood:
    """What the desk does with a customer's updates refused at the door as a flood."""
    features = app[FEATURES]
    window = features.inbox.flood.window_seconds
    return DeskFlood(app[POOL], features.desk_config, app[CLOCK], window)


def worker_ctx(
    name: str, build: Callable[[web.Application], Any]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The cleanup context of one worker: `build` makes it from the app once the stores and the
    assembly exist; it runs supervised under `name` and is stopped at shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        worker = build(app)
        async for _ in owned(name, worker, worker.stop):
            yield

    ctx.__name__ = ctx.__qualname__ = f"{name}_ctx"
    return ctx


def delivery_worker(app: web.Application) -> DeliveryWorker:
    features = app[FEATURES]
    hooks = DeliveryHooks()
    hooks.register("ticket", TicketDeliveryHook(features.desk_config, app[CLOCK]))
    hooks.register("incident", IncidentDeliveryHook(features.escalation_context))
    hooks.register("room", RoomDeliveryHook(features.rooms, app[CLOCK]))
    hooks.register("pubupd", FanOutDeliveryHook(features.mass, app[CLOCK]))
    hooks.watch(NotStartedWatch(features.chats.admin))
    worker = DeliveryWorker(
        app[POOL], app[REDIS], AiogramSender(app[BOT]), app[CLOCK], features.delivery, hooks
    )
    app[DELIVERY] = worker
    return worker


async def send_answers(app: web.Application, conversations: set[str]) -> None:
    """An update's handler queued answers for these conversations and committed: this
    process's delivery worker sends them now (none runs yet at start: the loop will)."""
    worker = app.get(DELIVERY)
    if worker is not None:
        await worker.express(conversations)


def escalation_worker(app: web.Application) -> EscalationWorker:
    return EscalationWorker(app[POOL], app[CLOCK], app[FEATURES].escalation_context)


def alert_inbox_worker(app: web.Application) -> AlertInboxWorker:
    """Folds Alertmanager's payloads into alerts as the webhook appends them."""
    worker = AlertInboxWorker(app[POOL], lambda: app[FEATURES].alerts_rules, app[CLOCK])
    app[ALERT_INBOX] = worker
    return worker


def wake_alert_inbox(app: web.Application) -> None:
    """The webhook appended a payload: fold it now rather than at the next poll."""
    worker = app.get(ALERT_INBOX)
    if worker is not None:
        worker.wake()


def proposal_worker(app: web.Application) -> ProposalWorker:
    """Customer-facing incidents: the bot proposes one when a category storms."""
    return ProposalWorker(app[POOL], app[FEATURES].mass, app[CLOCK])


def oncall_worker(app: web.Application) -> OncallWorker:
    features = app[FEATURES]
    sms = features.alerts_rules.channels.sms
    ctx = features.oncall
    return OncallWorker(app[POOL], app[CLOCK], ctx, sms, every=ctx.rules.scan_seconds)


def rooms_worker(app: web.Application) -> RoomsWorker:
    """Incident rooms: opened, summaries kept current, reminders, postmortems."""
    return RoomsWorker(app[POOL], app[CLOCK], app[FEATURES].rooms)


delivery_ctx = worker_ctx("delivery", delivery_worker)
escalation_ctx = worker_ctx("escalation", escalation_worker)
alert_inbox_ctx = worker_ctx("alert-inbox", alert_inbox_worker)
proposals_ctx = worker_ctx("mass-proposals", proposal_worker)
oncall_ctx = worker_ctx("oncall", oncall_worker)
rooms_ctx = worker_ctx("rooms", rooms_worker)


# Whether missed maintenance slots are caught up at start (tests that are not about the
# schedule switch it off, so a story is not interleaved with last night's jobs).
CATCH_UP_ON_START = web.AppKey("catch_up_on_start", bool)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    catch_up = app.get(CATCH_UP_ON_START, True)
    async with running_scheduler(app[FEATURES].job_deps, catch_up_on_start=catch_up):
        yield


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
    features = app[FEATURES]
    cfg = features.email
    if cfg is None:
        yield
        return
    pool, redis, clock = app[POOL], app[REDIS], app[CLOCK]
    desk = features.desk_config

    async def take_in() -> object:
        return await intake.handle_stored(pool, redis, desk, cfg, clock)

    reader = MailboxReader(pool, cfg, clock, take_in)
    sender = MailSender(pool, cfg, clock, telegram_files(app[BOT]), desk)
    async for _ in owned("email-in", reader, reader.stop):
        async for _ in owned("email-out", sender, sender.stop):
            yield


def worker_contexts() -> list[Callable[[web.Application], AsyncIterator[None]]]:
    return [
        delivery_ctx, escalation_ctx, oncall_ctx, monitor_ctx, scheduler_ctx, email_ctx, rooms_ctx,
        proposals_ctx,
    ]  # fmt: skip
