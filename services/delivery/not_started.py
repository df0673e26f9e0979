"""Staff who never pressed Start: Telegram refuses to message them privately (403 "bot can't
initiate conversation with a user"). The first refusal marks them (`staff.not_started_at`) and
tells the admin chat once; their pages go to the admin chat until they write to the bot in
private (services/escalation/outbound.py, bot/middlewares.py). Any other private text refused
that way (a missed-deadline notice, say) is posted in the admin chat for them, so it is not
lost."""

from __future__ import annotations

from services import chats, roster
from services.delivery.errors import FORBIDDEN, PermanentError
from services.delivery.hooks import DeliveryHook
from services.delivery.rows import OutboxRow
from services.i18n import current_locale, use_locale
from services.i18n import gettext as _
from services.outbox import ADMIN_COPY, PRIORITY_P1, send_text
from services.storage.types import Executor
from services.text import esc

OWNER = "delivery:not-started"


def never_started(error: PermanentError) -> bool:
    return error.reason == FORBIDDEN and "can't initiate conversation" in error.description


async def refused(
    db: Executor, user_id: int, admin_chat_id: int | None, *, language: str | None = None
) -> roster.StaffMember | None:
    """A private message to `user_id` was refused because they never started the bot. Returns
    the staff member (None: not staff); the admin chat hears of it the first time only."""
    member = await roster.member(db, user_id)
    if member is None:
        return None
    if await roster.mark_not_started(db, user_id) and admin_chat_id is not None:
        language = await chats.chat_language(db, admin_chat_id, language or current_locale())
        with use_locale(language):
            text = _("{name} has not started the bot: pages go to the admin chat instead").format(
                name=f'<a href="tg://user?id={user_id}">{esc(member.display_name)}</a>'
            )
        await send_text(
            db,
            admin_chat_id,
            {"text": "⚠️ " + text, "parse_mode": "HTML"},
            owner=f"{OWNER}:{user_id}",
            priority=PRIORITY_P1,
        )
    return member


# Owners whose own delivery hook re-sends a refused page into the admin chat.
RESENT_BY_OWNER = ("incident:",)


async def resend_in_admin_chat(
    db: Executor, row: OutboxRow, member: roster.StaffMember, admin_chat_id: int
) -> None:
    """The refused text, in the admin chat, addressed to the person it was for."""
    language = await chats.chat_language(db, admin_chat_id, current_locale())
    with use_locale(language):
        head = _("For {name}, who has not started the bot:").format(
            name=f'<a href="tg://user?id={member.user_id}">{esc(member.display_name)}</a>'
        )
    payload = dict(row.payload)
    copy = payload.pop(ADMIN_COPY, None)  # the same text in the admin chat's language
    if isinstance(copy, dict) and copy.get("language") == language:
        payload.update({k: v for k, v in copy.items() if k != "language"})
    payload["text"] = f"{head}\n{payload.get('text', '')}"
    payload["parse_mode"] = "HTML"
    await send_text(
        db,
        admin_chat_id,
        payload,
        owner=f"{OWNER}:{member.user_id}",
        dedup_key=f"{OWNER}:resent:{row.id}",
        priority=row.priority,
    )


class NotStartedWatch(DeliveryHook):
    """Registered with `hooks.watch(...)`: hears every failed row, whoever owns it."""

    def __init__(self, admin_chat_id: int | None) -> None:
        self.admin_chat_id = admin_chat_id

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        if row.chat_id <= 0 or not never_started(error):
            return
        member = await refused(db, row.chat_id, self.admin_chat_id)
        if member is None or self.admin_chat_id is None or row.kind != "text":
            return
        if (row.owner or "").startswith(RESENT_BY_OWNER):
            return
        await resend_in_admin_chat(db, row, member, self.admin_chat_id)
