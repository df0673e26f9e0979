"""Typed keys of what the aiohttp app owns, each set by one cleanup context."""

from __future__ import annotations

import asyncpg
from aiogram import Bot, Dispatcher
from aiohttp import web
from redis.asyncio import Redis

from bot.features import Features
from bot.intake import WebhookIntake
from bot.settings import Settings
from services.alerts.inbox import AlertInboxWorker
from services.clock import Clock
from services.delivery.worker import DeliveryWorker
from services.inbox.worker import InboxWorker
from services.rules import Rules

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
RULES = web.AppKey("rules", Rules)
POOL = web.AppKey("pool", asyncpg.Pool)
# A URL of the bot's PostgreSQL server where scratch databases may be created (restore tests).
SERVER_URL = web.AppKey("server_url", str)
REDIS = web.AppKey("redis", Redis)
BOT = web.AppKey("bot", Bot)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
REDIS_URL = web.AppKey("redis_url", str)
WEBHOOK_HANDLER = web.AppKey("webhook_handler", WebhookIntake)
INBOX = web.AppKey("inbox", InboxWorker)
# every feature's configuration, built once when the stores are up (bot/features.py)
FEATURES = web.AppKey("features", Features)
ALERT_INBOX = web.AppKey("alert_inbox", AlertInboxWorker)
# this process's delivery worker, once it runs: answers are sent at once through it
DELIVERY = web.AppKey("delivery", DeliveryWorker)
