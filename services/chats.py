"""One language per chat: a private chat speaks its person's language, a group chat
its own (`chat_settings`, set by an admin with /language in the chat), defaulting to
DEFAULT_LOCALE. Every renderer that posts into a chat asks `chat_language` once per batch of
messages and renders the batch `with use_locale(language):`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services import audit
from services.i18n import LANGUAGES
from services.storage.types import Executor


@dataclass(frozen=True)
class StaffChats:
    """The staff's chats by role (ADMIN_CHAT_ID, SUPPORT_CHAT_ID, SECURITY_CHAT_ID)."""

    admin: int | None
    support: int | None
    security: int | None = None
    incidents: int | None = None  # INCIDENT_CHAT_ID: the incident rooms


def is_private(chat_id: int) -> bool:
    """Telegram gives people positive ids and groups, supergroups and channels negative ones."""
    return chat_id > 0


async def chat_language(db: Executor, chat_id: int | None, default: str) -> str:
    """The language of everything posted into `chat_id` (one read)."""
    if chat_id is None:
        return default
    if is_private(chat_id):
        language = await db.fetchval("SELECT language FROM users WHERE id = $1", chat_id)
    else:
        language = await db.fetchval(
            "SELECT language FROM chat_settings WHERE chat_id = $1", chat_id
        )
    return language if language in LANGUAGES else default


async def set_chat_language(
    db: Executor, chat_id: int, language: str, *, by: int | None, now: datetime | None = None
) -> None:
    """A group chat's language, audited (pass a connection in a transaction to commit both)."""
    assert language in LANGUAGES and not is_private(chat_id)
    await db.execute(
        """
        INSERT INTO chat_settings (chat_id, language, set_by, set_at)
        VALUES ($1, $2, $3, coalesce($4, now()))
        ON CONFLICT (chat_id) DO UPDATE
            SET language = EXCLUDED.language, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at
        """,
        chat_id,
        language,
        by,
        now,
    )
    await audit.record(
        db,
        actor_id=by,
        action="chat.language",
        allowed=True,
        target=str(chat_id),
        chat_id=chat_id,
        details={"language": language},
        at=now,
    )
