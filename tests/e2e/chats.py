"""The two groups a bot run is set up with, as the emulator holds them: the admin group and the
support forum (topics on), the admin a member and an administrator of both."""

from __future__ import annotations

from sandbox.telegram.client import EmulatorClient, Json


async def desk_chats(tg: EmulatorClient, admin: int) -> tuple[Json, Json]:
    """The admin group and the support forum, created now: (admin chat, support chat)."""
    admin_chat = await tg.create_chat(
        type="supergroup", title="Admin", members=[admin], admins=[admin]
    )
    support_chat = await tg.create_chat(
        type="supergroup", title="Support", is_forum=True, members=[admin], admins=[admin]
    )
    return admin_chat, support_chat
