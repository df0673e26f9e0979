"""The payday scenario, shared by the e2e storm test and bench/mass_fanout.py: a customer-facing
payment incident is open; N customers write payment messages spread over `spread` seconds;
then `/update` in the incident's topic and Resolve from its card each fan out to all of them.

Every bot message is timed as the emulator stores it (its event bus, in-process), so the
figures are what a customer would see: notice latency per customer, fan-out durations, and
the support group's messages and edits while the customers wrote."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram.client import Json
from services.rules import Rules
from tests.cast import ADMIN
from tests.e2e.buttons import datas
from tests.e2e.conftest import OPEN_CARDS, OPEN_INBOX, World
from tests.waiting import eventually

FIRST_CUSTOMER = 500_001
FLOOR_PER_SECOND = 30.0  # Telegram's overall limit: the physical floor of any fan-out


def storm_rules(**mass: Any) -> Rules:
    """Telegram's real pacing (no FAST_DELIVERY): the limits are the point here."""
    return Rules({"inbox": OPEN_INBOX, "support": OPEN_CARDS, "mass_incidents": mass})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Watch:
    """Bot messages as the emulator stores them, with the loop time they arrived."""

    world: World
    got: dict[str, dict[int, list[float]]] = field(default_factory=dict)  # kind -> chat -> times
    group_events: list[tuple[float, str, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        queue = self.world.emulator.runtime.bus.subscribe()
        queue._maxsize = 0  # type: ignore[attr-defined]  # unbounded: nothing is dropped

        async def drain() -> None:
            loop = asyncio.get_running_loop()
            while True:
                event = await queue.get()
                now = loop.time()
                if event["type"] not in ("message_new", "message_edited"):
                    continue
                message = event["message"]
                if not message.get("from", {}).get("is_bot"):
                    continue
                chat = event["chat_id"]
                if chat == self.world.support_chat_id:
                    self.group_events.append((now, event["type"], message.get("text") or ""))
                if chat <= 0 or event["type"] != "message_new":
                    continue
                kind = classify(message)
                self.got.setdefault(kind, {}).setdefault(chat, []).append(now)

        self.task = asyncio.create_task(drain())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def count(self, kind: str) -> int:
        return len(self.got.get(kind, {}))

    def duplicates(self, kind: str) -> int:
        return sum(len(t) - 1 for t in self.got.get(kind, {}).values())

    def last(self, kind: str) -> float:
        return max(max(t) for t in self.got[kind].values())


def classify(message: Json) -> str:
    buttons = datas(message)
    if any(d.startswith("mn:") for d in buttons):
        return "notice"
    if any(d.startswith("mr:") for d in buttons):
        return "resolved"
    if "📣" in (message.get("text") or ""):
        return "update"
    return "other"


@dataclass
class Figures:
    customers: int
    notice_p50: float
    notice_p95: float
    notice_max: float
    group_in_minute: int
    group_what: list[tuple[float, str, str]]
    update_seconds: float
    resolve_seconds: float
    lost: int
    duplicates: int

    @property
    def floor(self) -> float:
        return self.customers / FLOOR_PER_SECOND

    def lines(self) -> list[str]:
        f = self.floor
        return [
            f"customers: {self.customers}; the 30/s floor for one message each: {f:.1f} s",
            f"notice after the customer's message: p50 {self.notice_p50:.2f} s, "
            f"p95 {self.notice_p95:.2f} s, max {self.notice_max:.2f} s "
            f"(last notice / floor: {self.notice_max / f:.2f})",
            f"support group messages + edits while they wrote: {self.group_in_minute}",
            f"/update fan-out: {self.update_seconds:.1f} s = {self.update_seconds / f:.2f} × floor",
            f"resolve fan-out: {self.resolve_seconds:.1f} s = "
            f"{self.resolve_seconds / f:.2f} × floor",
            f"lost: {self.lost}; duplicates: {self.duplicates}",
        ]


async def admin_says(world: World, text: str, **kw: Any) -> Json:
    chat = kw.pop("chat_id", world.admin_chat_id)
    sent = await world.send(ADMIN, text, chat_id=chat, **kw)
    answer: Json = await world.tg.wait_for_message(
        chat, after_message_id=sent["message_id"], thread_id=kw.get("thread_id"),
        predicate=lambda m: not datas(m), timeout=60,
    )  # fmt: skip
    return answer


async def payday(world: World, customers: int, spread: float) -> Figures:
    tg = world.tg
    loop = asyncio.get_running_loop()
    people = [FIRST_CUSTOMER + i for i in range(customers)]
    for i, user in enumerate(people):
        await tg.create_user(
            user, first_name=f"Pelanggan{i}", language_code="en" if i % 5 == 0 else "id"
        )
    await admin_says(world, "/incident P1 Pakasir: payments failing")
    declared = await admin_says(world, "/incident public QC-000001 payment")
    assert "QC-000001" in declared["text"], declared["text"]
    card = await tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: "mc:1:res" in datas(m), timeout=60
    )
    thread = card["message_thread_id"]
    watch = Watch(world)
    watch.start()
    try:
        # the customers write, spread over `spread` seconds
        sent_at: dict[int, float] = {}
        began = loop.time()

        async def write(index: int, user: int) -> None:
            await asyncio.sleep(spread * index / customers)
            sent_at[user] = loop.time()
            await tg.send_text(user, user, f"Pembayaran gagal, order INV2026{index:06d}")

        await asyncio.gather(*(write(i, u) for i, u in enumerate(people)))
        await eventually("every notice", lambda: watch.count("notice") >= customers, 120, every=0.2)
        in_minute = sum(1 for at, _k, _t in watch.group_events if began <= at < began + 60)
        what = [(round(at - began, 1), k, t[:40]) for at, k, t in watch.group_events]
        latencies = [min(watch.got["notice"][u]) - sent_at[u] for u in people]

        # /update in the incident's topic
        update_began = loop.time()
        await world.send(
            ADMIN, "/update Pakasir sedang memulihkan layanan", chat_id=world.support_chat_id,
            thread_id=thread,
        )  # fmt: skip
        await eventually("every update", lambda: watch.count("update") >= customers, 180, every=0.2)
        update_seconds = watch.last("update") - update_began

        # Resolve from the card
        resolve_began = loop.time()
        query = await tg.press(ADMIN, world.support_chat_id, card["message_id"], "mc:1:res")
        await tg.callback_answer(query, timeout=30)
        await eventually(
            "every resolution", lambda: watch.count("resolved") >= customers, 180, every=0.2
        )
        resolve_seconds = watch.last("resolved") - resolve_began
        await asyncio.sleep(1.0)  # a late duplicate would show now
    finally:
        await watch.stop()
    lost = sum(customers - watch.count(k) for k in ("notice", "update", "resolved"))
    dup = sum(watch.duplicates(k) for k in ("notice", "update", "resolved"))
    return Figures(
        customers=customers,
        notice_p50=percentile(latencies, 0.5),
        notice_p95=percentile(latencies, 0.95),
        notice_max=max(latencies),
        group_in_minute=in_minute,
        group_what=what,
        update_seconds=update_seconds,
        resolve_seconds=resolve_seconds,
        lost=lost,
        duplicates=dup,
    )


def kinds_of(watch: Watch) -> Counter[str]:
    return Counter({k: len(v) for k, v in watch.got.items()})
