"""The bot's own Prometheus metrics (features define theirs beside their code)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

UPDATES = Counter("qc_updates_total", "Telegram updates seen, by outcome", ["outcome"])
HANDLER_LATENCY = Histogram(
    "qc_handler_seconds",
    "Time from an update entering the dispatcher to its handler finishing",
    ["update_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BOT_API_CALLS = Counter(
    "qc_bot_api_calls_total", "Bot API calls by method and outcome", ["method", "outcome"]
)


class BotApiMetrics:
    """An aiogram request middleware counting every Bot API call by method and outcome."""

    async def __call__(self, make_request: Any, bot: Any, method: Any) -> Any:
        name = type(method).__name__
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            BOT_API_CALLS.labels(method=name, outcome=type(exc).__name__).inc()
            raise
        BOT_API_CALLS.labels(method=name, outcome="ok").inc()
        return response
