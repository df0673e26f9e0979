"""QuickCart's JSON log files: a steady trickle while the demo runs, floods on demand.

One JSON object per line (`timestamp`, `level`, `service`, `event`, `message`), timestamps
from the demo clock. The file is rotated to `app.log.1` past a few megabytes, as logrotate
would, so the bot's incremental reader meets a rotation too.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROTATE_BYTES = 4 * 1024 * 1024
LINES_PER_MINUTE = 20

_INFO = (
    ("checkout", "order_created", "order created"),
    ("payments", "payment_completed", "payment completed"),
    ("web", "http_request", "GET /products 200"),
    ("web", "http_request", "GET /cart 200"),
    ("auth", "login", "customer logged in"),
)
_ERRORS = (
    ("payments", "payment_failed", "Pakasir answered 503 for order QC-{n}"),
    ("checkout", "db_timeout", "query timed out after 5000 ms"),
    ("web", "http_error", "POST /checkout 500 upstream error"),
)


@dataclass
class LogWriter:
    path: Path
    error_share: float = 0.003
    storm_until: datetime | None = None
    slow_until: datetime | None = None  # QuickCart's web requests take 5.5 to 9 s meanwhile
    rng: random.Random = field(default_factory=lambda: random.Random(11))
    last: datetime | None = None

    def _write(self, records: list[dict[str, object]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > ROTATE_BYTES:
            self.path.replace(self.path.with_name(self.path.name + ".1"))
        with self.path.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _record(self, at: datetime, level: str, item: tuple[str, str, str]) -> dict[str, object]:
        service, event, message = item
        record: dict[str, object] = {
            "timestamp": at.isoformat(timespec="milliseconds"),
            "level": level,
            "service": service,
            "event": event,
            "message": message.format(n=self.rng.randrange(10**5)),
        }
        if event in ("http_request", "http_error"):
            slow = self.slow_until is not None and at < self.slow_until
            low, high = (5500, 9000) if slow else (40, 600)
            record["duration_ms"] = self.rng.randrange(low, high)
        return record

    def tick(self, now: datetime) -> int:
        """The ordinary lines for the demo time since the last tick (errors during a storm)."""
        if self.last is None or now - self.last > timedelta(hours=1):
            self.last = now - timedelta(seconds=10)
        count = min(int((now - self.last).total_seconds() / 60 * LINES_PER_MINUTE), 2000)
        if count == 0:
            return 0
        storm = self.storm_until is not None and now < self.storm_until
        share = 0.25 if storm else self.error_share
        span = now - self.last
        records = []
        for i in range(count):
            at = self.last + span * ((i + 1) / count)
            if self.rng.random() < share:
                records.append(self._record(at, "error", self.rng.choice(_ERRORS)))
            else:
                records.append(self._record(at, "info", self.rng.choice(_INFO)))
        self.last = now
        self._write(records)
        return count

    def flood_errors(self, now: datetime, *, lines: int = 300, minutes: int = 10) -> None:
        """A burst of errors now, and a quarter of all lines errors for the next minutes."""
        records = [
            self._record(now, "error" if i % 3 else "info", self.rng.choice(_ERRORS))
            for i in range(lines)
        ]
        self._write(records)
        self.storm_until = now + timedelta(minutes=minutes)

    def flood_fraud(self, now: datetime, *, events: int = 8) -> None:
        """More `fraud_detected` events in one minute than the seed's 5-in-5-minutes rule."""
        records: list[dict[str, object]] = [
            {
                "timestamp": (now + timedelta(seconds=i)).isoformat(timespec="milliseconds"),
                "level": "warning",
                "service": "fraud",
                "event": "fraud_detected",
                "message": f"fraud_detected: card testing from device d-{1000 + i}",
                "order": f"QC-F{self.rng.randrange(10**5)}",
            }
            for i in range(events)
        ]
        self._write(records)

    def slow_requests(self, now: datetime, *, lines: int = 60, minutes: int = 10) -> None:
        """QuickCart's web requests get slow: a burst of them now, and for the next minutes."""
        self.slow_until = now + timedelta(minutes=minutes)
        web = ("web", "http_request", "GET /checkout 200")
        self._write([self._record(now - timedelta(seconds=i), "info", web) for i in range(lines)])

    def calm(self) -> None:
        self.storm_until = None
        self.slow_until = None

    def view(self, now: datetime) -> dict[str, object]:
        size = self.path.stat().st_size if self.path.exists() else 0
        storming = self.storm_until is not None and now < self.storm_until
        slow = self.slow_until is not None and now < self.slow_until
        return {"path": str(self.path), "size": size, "error_storm": storming, "slow": slow}
