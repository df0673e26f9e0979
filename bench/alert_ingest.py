"""Post 10,000 alerts to POST /api/alertmanager in Alertmanager batches of 100 (8 at a time)
against embedded PostgreSQL and Redis, with the alert pipeline ticking, the real delivery worker
sending, and the Telegram Bot API emulator (Telegram's limits ON) as the admin chat.

Prints alerts stored per second; the time from the first POST until every alert is visible in
the admin chat (listed by its labels in its group message or in a storm digest: an alert behind
a "…and N more alerts" pointer does not count); the 429s the emulator answered; the messages
and edits sent to the admin chat. When `prometheus-alertmanager` is installed, also how fast it
ingests the same alerts through its own POST /api/v2/alerts.

The stored rate is judged on the median of --rounds (5) ingest rounds, the bot's then a fresh
Alertmanager's in turn, each started once the pipeline is quiet (Alertmanager's client shares
this process): one round lasts a quarter of a second, and a single round's ratio moved from
0.72x to 1.43x between two runs with nothing changed. Round 1 is the storm above; the later
rounds post fresh alerts to the same receiver.

For a bench the alerts RULES section's grouping is shortened (group_wait 1 s, group_interval
2 s, like the loopback Alertmanager of the tests) and the pipeline ticks every second (the
app's monitor loop: every 15 s); the output says so. The wait for the chat is bounded
(--deadline, 150 s): if not every alert is visible by then, it prints how many were and exits 1.

    .venv/bin/python bench/alert_ingest.py [--alerts 10000] [--batch 100] [--concurrency 8]
        [--alertnames 100] [--group-wait 1] [--group-interval 2] [--tick 1] [--deadline 150]
        [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from redis.asyncio import Redis

from bench.common import errors_only
from bench.stores import start_stores
from bot.alertmanager import PATH, alertmanager_handler
from bot.sender import AiogramSender
from sandbox.telegram import (
    EmulatorClient,
    EmulatorConfig,
    LimitConfig,
    TelegramEmulator,
)
from services.alerts import inbox, pipeline
from services.alerts.config import AlertsRules
from services.alerts.inbox import AlertInboxWorker
from services.alerts.outbound import Audience
from services.clock import SystemClock
from services.delivery import DeliveryConfig, DeliveryHooks, DeliveryWorker
from services.storage.db import QUERY_OBSERVERS, create_pool
from tests.integration.alerts.real_alertmanager import BINARY, alertmanager
from tests.integration.alerts.test_webhook import TOKEN, payload
from tests.net import serve

# How an alert shows in a group message (its differing labels) or in a digest line.
SHOWN = re.compile(r"instance=host-(\d+)\b")
# A group message too long for Telegram ends with "…and N more alerts: /alerts" instead.
POINTER = re.compile(r"…and (\d+) more alerts?: /alerts")
TITLE = re.compile(r"Firing: (Bench\d+)")
# A storm message's line: "🟠 Bench7 ×100 instance=host-7" counts its group's firing alerts.
STORM_LINE = re.compile(r"^\S+ (Bench\d+) ×(\d+)", re.MULTILINE)
STORM_TITLE = "Alert storm"


def alerts(total: int, names: int, first: int = 0) -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Bench{n % names}",
                "instance": f"host-{n}",
                "severity": "warning",
            },
            "annotations": {"summary": "bench"},
            "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": f"{n:016x}",
        }
        for n in range(first, first + total)
    ]


async def post_all(
    url: str, batches: Sequence[object], concurrency: int, headers: dict[str, str]
) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def one(body: object) -> None:
            async with gate, http.post(url, json=body, headers=headers) as r:
                assert r.status == 200, r.status

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        return time.perf_counter() - started


@contextlib.asynccontextmanager
async def receiver(pool: Any, wake: Any) -> Any:
    """The bot's webhook handler, waking the inbox's consumer as the app does."""
    app = web.Application()
    clock = SystemClock()
    handler = alertmanager_handler(
        token=lambda: TOKEN, pool=lambda: pool, clock=lambda: clock, wake=wake
    )
    app.router.add_post(PATH, handler)
    async with serve(app) as url:
        yield url + PATH


async def ticking(pool: Any, config: AlertsRules, audience: Audience, every: float) -> None:
    """The monitor loop's alert half (bot/monitor.py): no QuickCart database, no escalation."""
    clock = SystemClock()
    while True:
        await pipeline.tick(pool, config, clock, audience)
        await asyncio.sleep(every)


@dataclass
class Watch:
    visible: int = 0
    behind_pointer: int = 0  # alerts only counted by a "…and N more" line
    groups_shown: int = 0
    first_message_at: float | None = None
    all_at: float | None = None  # perf_counter when every alert was visible
    messages: int = 0
    storm_messages: int = 0


def visible_alerts(texts: list[str], total: int, names: int) -> tuple[int, set[str]]:
    """Alerts listed by their labels in group messages, or counted by their group's line in a
    storm message (a storm line names the group and how many of its alerts fire)."""
    listed: dict[str, set[int]] = {}
    counted: dict[str, int] = {}
    for text in texts:
        if STORM_TITLE in text.split("\n", 1)[0]:
            for name, count in STORM_LINE.findall(text):
                counted[name] = max(counted.get(name, 0), int(count))
            continue
        for n in SHOWN.findall(text):
            if int(n) < total:
                listed.setdefault(f"Bench{int(n) % names}", set()).add(int(n))
    expected = {f"Bench{k}": len(range(k, total, names)) for k in range(names)}
    seen = sum(
        max(len(listed.get(name, ())), min(counted.get(name, 0), want))
        for name, want in expected.items()
    )
    return seen, set(listed) | set(counted)


async def watch(
    tg: EmulatorClient, chat_id: int, total: int, names: int, started: float, deadline: float
) -> Watch:
    """Poll the emulator's copy of the admin chat until every alert is listed or time is up."""
    seen = Watch()
    while True:
        now = time.perf_counter()
        shown = await tg.messages(chat_id)
        seen.messages = len(shown)
        if shown and seen.first_message_at is None:
            seen.first_message_at = now - started
        texts = [str(m.get("text") or m.get("caption") or "") for m in shown]
        seen.storm_messages = sum(1 for t in texts if STORM_TITLE in t.split("\n", 1)[0])
        seen.visible, groups = visible_alerts(texts, total, names)
        seen.behind_pointer = sum(int(n) for t in texts for n in POINTER.findall(t))
        seen.groups_shown = len(groups)
        if seen.visible >= total:
            seen.all_at = now
            return seen
        if now - started > deadline:
            return seen
        await asyncio.sleep(0.5)


def grouping_of(args: argparse.Namespace) -> AlertsRules:
    config = AlertsRules()
    grouping = config.grouping.model_copy(
        update={
            "group_wait": timedelta(seconds=args.group_wait),
            "group_interval": timedelta(seconds=args.group_interval),
        }
    )
    return config.model_copy(update={"grouping": grouping})


async def quiet(pool: Any) -> None:
    """Until the pipeline has folded every payload and the outbox holds nothing to send."""
    while True:
        if not await inbox.pending(pool) and not await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE status = 'pending'"
        ):
            return
        await asyncio.sleep(0.05)


AmRound = Callable[[list[dict[str, object]]], Awaitable[float]]


async def bot_side(
    args: argparse.Namespace, items: list[dict[str, object]], am_round: AmRound
) -> BotResult:
    """The storm with the whole pipeline; then, for the ingest rate, more rounds of fresh
    alerts, each followed by one of Alertmanager's (`am_round`), the pipeline still running."""
    total = len(items)
    stores = await start_stores("qc-bench-")
    statements: list[object] = []
    QUERY_OBSERVERS.append(statements.append)  # the receiver's own connections count theirs
    posting = await create_pool(stores.pg.url, min_size=10, max_size=10)
    QUERY_OBSERVERS.remove(statements.append)
    pool = await create_pool(stores.pg.url, min_size=2, max_size=20)
    redis = Redis.from_url(stores.redis.url(0))
    await redis.flushdb()
    config = grouping_of(args)
    batches = [payload(items[i : i + args.batch]) for i in range(0, total, args.batch)]
    try:
        async with (
            TelegramEmulator(EmulatorConfig(limits=LimitConfig(enabled=True))) as emulator,
            EmulatorClient(emulator.base_url) as tg,
        ):
            admin = int((await tg.create_chat("QuickCart admins", members=[]))["id"])
            session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
            bot = Bot(emulator.token, session=session)
            # As bot/workers.py builds it: the `delivery` RULES defaults + ADMIN_CHAT_ID; the
            # app registers no hook for alert_group rows.
            worker = DeliveryWorker(
                pool,
                redis,
                AiogramSender(bot),
                SystemClock(),
                DeliveryConfig(admin_chat_id=admin),
                DeliveryHooks(),
            )
            sending = asyncio.create_task(worker.run())
            audience = Audience(admin, "en", ZoneInfo("Asia/Jakarta"))
            ticker = asyncio.create_task(ticking(pool, config, audience, args.tick))
            consumer = AlertInboxWorker(pool, lambda: config, SystemClock())
            consuming = asyncio.create_task(consumer.run())
            try:
                async with receiver(posting, consumer.wake) as url:
                    started = time.perf_counter()
                    watcher = asyncio.create_task(
                        watch(tg, admin, total, args.alertnames, started, args.deadline)
                    )
                    headers = {"Authorization": f"Bearer {TOKEN}"}
                    took = await post_all(url, batches, args.concurrency, headers)
                    last_post = time.perf_counter()
                    stored = await pool.fetchval("SELECT sum(alerts) FROM alert_inbox")
                    per_post = len(statements) / len(batches)
                    while True:
                        if not await inbox.pending(pool):
                            break
                        await asyncio.sleep(0.05)
                    folded = time.perf_counter() - started
                    alerts_folded = await pool.fetchval("SELECT count(*) FROM alerts")
                    seen = await watcher
                    await quiet(pool)
                    rates, am_rates = [stored / took], [await am_round(items)]
                    for n in range(1, args.rounds):
                        fresh = alerts(total, args.alertnames, first=n * total)
                        more = [
                            payload(fresh[i : i + args.batch]) for i in range(0, total, args.batch)
                        ]
                        rates.append(total / await post_all(url, more, args.concurrency, headers))
                        await quiet(pool)  # Alertmanager's client shares this process
                        am_rates.append(await am_round(fresh))
            finally:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
                consumer.stop()
                await consuming
                await worker.stop()
                await sending
            stats = await tg.stats()
            outbox = {
                (r["kind"], r["status"]): r["n"]
                for r in await pool.fetch(
                    "SELECT kind, status, count(*) AS n FROM outbox WHERE chat_id = $1 "
                    "GROUP BY kind, status",
                    admin,
                )
            }
            groups = await pool.fetchval("SELECT count(*) FROM alert_groups")
            storms = await pool.fetch(
                "SELECT s.id, s.opened_at, s.closed_at, s.ended_at, count(g.id) AS groups"
                " FROM alert_storms s LEFT JOIN alert_groups g ON g.storm_id = s.id"
                " GROUP BY s.id ORDER BY s.id"
            )
            await bot.session.close()
    finally:
        await redis.aclose()
        await posting.close()
        await pool.close()
        await stores.stop()

    sends = sum(stats["sends"].values())
    edits = sum(v for k, v in stats["calls"].items() if k.lower().startswith("editmessage"))
    print(
        f"bench settings: alerts RULES grouping group_wait {args.group_wait:g} s, group_interval "
        f"{args.group_interval:g} s (defaults 30 s / 5 min); pipeline.tick every {args.tick:g} s "
        "(app: 15 s); delivery worker with the default `delivery` rules; emulator limits ON "
        "(20 messages/min per group)"
    )
    print(
        f"bot: {stored} alerts stored durably in {took:.2f} s = {stored / took:,.0f} alerts/s "
        f"({len(batches)} POSTs of {args.batch}, {args.concurrency} at a time; "
        f"{per_post:.1f} SQL statements per POST)"
    )
    print(
        f"bot: {alerts_folded} alerts folded into alerts and groups {folded:.2f} s after the "
        "first POST"
    )
    first = "never" if seen.first_message_at is None else f"{seen.first_message_at:.1f} s"
    after_last = None if seen.all_at is None else seen.all_at - last_post
    if after_last is not None:
        print(
            f"bot: all {total} alerts visible in the admin chat {after_last:.1f} s after the "
            f"last POST ({after_last + last_post - started:.1f} s after the first; "
            f"{groups} groups; "
            f"first message at {first}; {seen.storm_messages} storm message(s))"
        )
    else:
        print(
            f"bot: NOT all visible: {seen.visible} of {total} alerts visible in the admin "
            f"chat {args.deadline:g} s after the first POST ({groups} alert groups, "
            f"{seen.groups_shown} of them shown; first message at {first}; "
            f"{seen.messages} messages in the chat, {seen.storm_messages} of them storm "
            f"messages; {seen.behind_pointer} more alerts only counted by '…and N more "
            "alerts: /alerts' lines of messages over Telegram's 4096 chars)"
        )
    for row in storms:
        closed = "no" if row["closed_at"] is None else f"{row['closed_at']:%H:%M:%S}"
        print(
            f"bot: storm {row['id']}: {row['groups']} groups, opened {row['opened_at']:%H:%M:%S}"
            f", closed {closed}"
        )
    print(f"bot: 429s received from the emulator: {stats['retry_after_total']}")
    print(
        "ingest rounds (alerts/s), bot then Alertmanager in turn: "
        + ", ".join(f"{b:,.0f} / {a:,.0f}" for b, a in zip(rates, am_rates, strict=True))
    )
    print(f"bot: admin chat got {sends} messages and {edits} edits")
    rows = ", ".join(f"{k}/{s}: {n}" for (k, s), n in sorted(outbox.items()))
    print(f"bot: admin chat outbox rows (kind/status): {rows}")
    ratios = [b / a for b, a in zip(rates, am_rates, strict=True)]
    return BotResult(statistics.median(ratios), after_last, int(stats["retry_after_total"]))


@dataclass(frozen=True)
class BotResult:
    ratio: float  # the median of the rounds' stored rate / Alertmanager's
    visible_after_last_post: float | None  # s; None: not all visible by the deadline
    retry_afters: int


async def alertmanager_round(args: argparse.Namespace, items: list[dict[str, object]]) -> float:
    """The same alerts into a fresh Alertmanager (its ingest slows as it holds more: 26,000
    alerts/s empty, 6,000-10,000 holding 10,000-40,000 in one run)."""
    keep = ("labels", "annotations", "startsAt")
    am_batches: list[object] = [
        [{k: a[k] for k in keep} for a in items[i : i + args.batch]]
        for i in range(0, len(items), args.batch)
    ]
    async with alertmanager("http://127.0.0.1:9/none", TOKEN) as am:
        took = await post_all(f"{am}/api/v2/alerts", am_batches, args.concurrency, {})
    print(
        f"alertmanager {BINARY}: {len(items)} alerts ingested via /api/v2/alerts in "
        f"{took:.2f} s = {len(items) / took:,.0f} alerts/s"
    )
    return len(items) / took


VISIBLE_WITHIN = 60.0  # s after the last POST


async def main(args: argparse.Namespace) -> int:
    errors_only()
    if BINARY is None:
        print(
            "alertmanager: /usr/bin/prometheus-alertmanager is not installed (Debian package "
            "prometheus-alertmanager): nothing to compare with, so no verdict"
        )
        return 1
    items = alerts(args.alerts, args.alertnames)
    bot = await bot_side(args, items, functools.partial(alertmanager_round, args))
    ratio = bot.ratio
    visible = bot.visible_after_last_post
    checks = {
        f"stored rate {ratio:.2f}x Alertmanager's, median of {args.rounds} rounds (>= 1.0x)": (
            ratio >= 1.0
        ),
        "every alert visible within 60 s of the last POST "
        f"({'never' if visible is None else f'{visible:.1f} s'})": visible is not None
        and visible <= VISIBLE_WITHIN,
        f"{bot.retry_afters} x 429 (0)": bot.retry_afters == 0,
    }
    for what, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--alertnames", type=int, default=100, help="alert groups")
    parser.add_argument("--group-wait", type=float, default=1.0)
    parser.add_argument("--group-interval", type=float, default=2.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--deadline", type=float, default=150.0, help="s after the first POST")
    parser.add_argument(
        "--rounds", type=int, default=5, help="ingest rounds, bot and Alertmanager in turn"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
