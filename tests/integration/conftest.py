"""What the desk's integration folders (tickets, email) share: the support group and the desk's
config for it (English staff texts, Jakarta time, the default rules)."""

from __future__ import annotations

import pytest

from services.rules import Rules
from services.tickets.config import DeskConfig

SUPPORT_CHAT = -1001234567890


@pytest.fixture
def cfg() -> DeskConfig:
    return desk_config()


def desk_config(**support: object) -> DeskConfig:
    """The tests' desk, with these `support` rules of RULES_FILE (none: the defaults)."""
    return DeskConfig.build(
        support_chat_id=SUPPORT_CHAT, timezone="Asia/Jakarta", staff_locale="en",
        rules=Rules({"support": support} if support else {}),
    )  # fmt: skip
