"""Settings of one emulator instance (plain dataclasses, built by the caller)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LimitConfig:
    """Telegram-like flood limits; see ``ratelimit.py`` for what is counted."""

    enabled: bool = True
    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: float = 20.0  # sends to one group in any rolling `group_window` seconds
    group_window: float = 60.0
    global_per_second: float = 30.0
    global_burst: int = 30


@dataclass
class FaultConfig:
    """Injected trouble; ``methods`` limits it to some Bot API methods (lower case)."""

    error_rate: float = 0.0
    error_status: int = 502
    latency: float = 0.0
    hang: bool = False
    methods: frozenset[str] | None = None
    seed: int = 0


@dataclass
class EmulatorConfig:
    token: str = "123456789:TEST-token-for-the-emulator"
    extra_tokens: tuple[str, ...] = ()
    bot_username: str = "quickcart_support_bot"
    bot_first_name: str = "QuickCart Support"
    host: str = "127.0.0.1"
    port: int = 0
    limits: LimitConfig = field(default_factory=LimitConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    strict_ampersand: bool = True
    callback_ttl: float = 15.0
    webhook_retry_delay: float = 0.5
    webhook_timeout: float = 10.0

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @property
    def tokens(self) -> tuple[str, ...]:
        return (self.token, *self.extra_tokens)
