"""The world panel's "payday outage": Pakasir starts failing and 200 demo customers write about
their failed payments over a minute, through the emulator as any customer would, so anyone
can watch a mass incident happen (the proposal, the notice, the card counting up)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

from sandbox.telegram.people import user_sends
from sandbox.telegram.runtime import Runtime

FIRST_ID = 900_001
NAMES = (
    "Agus", "Bayu", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko",
    "Kartika", "Lina", "Made", "Nur", "Oki", "Putri", "Rizky", "Sinta", "Tono", "Wulan",
)  # fmt: skip
COMPLAINTS_ID = (
    "Pembayaran saya gagal terus, order {ref}",
    "Kenapa transaksi QRIS gagal? Saldo sudah terpotong ({ref})",
    "Bayar pakai VA dari tadi gagal",
    "tolong, pembayaran {ref} gagal padahal dana sudah keluar",
    "Checkout gagal terus pas mau bayar",
)
COMPLAINTS_EN = (
    "My payment keeps failing, order {ref}",
    "QRIS payment failed but I was charged ({ref})",
    "Can't pay with virtual account, transaction failed",
)


class PaydayCrowd:
    def __init__(self, runtime: Runtime, seed: int = 19) -> None:
        self.runtime = runtime
        self.random = random.Random(seed)
        self.count = 0
        self.written = 0
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, count: int = 200, spread: float = 60.0) -> None:
        """`count` customers write within `spread` seconds (a second press adds a new crowd)."""
        first = FIRST_ID + self.count
        self.count += count
        self.task = asyncio.create_task(self._write(first, count, spread))

    async def _write(self, first: int, count: int, spread: float) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        world = self.runtime.world
        for i in range(count):
            user_id = first + i
            english = i % 4 == 3
            name = f"{NAMES[i % len(NAMES)]} {user_id - FIRST_ID + 1}"
            world.upsert_user(user_id, first_name=name, language_code="en" if english else "id")
            ref = f"INV2026{self.random.randrange(10**6):06d}"
            text = self.random.choice(COMPLAINTS_EN if english else COMPLAINTS_ID).format(ref=ref)
            user_sends(self.runtime, user_id=user_id, chat_id=user_id, text=text)
            self.written += 1
            await asyncio.sleep(max(0.0, began + spread * (i + 1) / count - loop.time()))

    def view(self) -> dict[str, Any]:
        return {"running": self.running, "customers": self.count, "written": self.written}

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
