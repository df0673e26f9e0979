"""The demo backup job's heartbeat: like a real `pg_dump` cron job wrapped in `curl`, it pings
`<ping URL>/start` before the dump and the ping URL (with the dump's summary as the body) after
it, or `/fail` with the error. The world panel can stop it ("stop backup heartbeat"): the job
then runs without checking in, and the bot's heartbeat goes late, then down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from loguru import logger

TIMEOUT_S = 5.0


@dataclass
class BackupHeartbeat:
    ping_key: str  # the check's secret uuid (kept in world.json)
    url: str | None = None  # <bot ping base>/ping/<key>, set once the bot's address is known
    stopped: bool = False
    sent: list[str] = field(default_factory=list)  # pings the bot took, newest last (the panel)

    async def ping(self, kind: Literal["start", "success", "fail"], body: str = "") -> bool:
        """True when the bot answered 200. A bot that is down or slow never stops the backup."""
        if self.stopped or self.url is None:
            return False
        url = self.url if kind == "success" else f"{self.url}/{kind}"
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http,
                http.post(url, data=body.encode()) as response,
            ):
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.warning("backup heartbeat ping ({}) failed: {}", kind, type(exc).__name__)
            return False
        if status != 200:
            logger.warning("backup heartbeat ping ({}) answered {}", kind, status)
            return False
        self.sent = [*self.sent[-9:], kind]
        return True

    def view(self) -> dict[str, object]:
        return {"stopped": self.stopped, "configured": self.url is not None, "sent": self.sent[-3:]}
