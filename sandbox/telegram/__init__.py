"""A Telegram Bot API emulator: the real bot polls it over HTTP; tests play the people.

``TelegramEmulator`` runs it in-process, ``create_app`` builds the aiohttp application,
``EmulatorClient`` drives the people through the control API.
"""

from .client import EmulatorClient
from .config import EmulatorConfig, FaultConfig, LimitConfig
from .server import TelegramEmulator, create_app

__all__ = [
    "EmulatorClient",
    "EmulatorConfig",
    "FaultConfig",
    "LimitConfig",
    "TelegramEmulator",
    "create_app",
]
