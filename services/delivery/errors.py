"""What can go wrong on a send, as the worker needs to know it (no aiogram here).

A `Sender` raises one of these; `classify` turns Telegram's status code and description
into the right one, so the aiogram adapter and any other sender agree.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Base of everything a `Sender` raises for a failed call."""


class RetryAfter(DeliveryError):
    """429: this chat must wait `seconds` before the next send."""

    def __init__(self, seconds: float, description: str = "Too Many Requests") -> None:
        super().__init__(f"{description} (retry after {seconds}s)")
        self.seconds = seconds


class TransientError(DeliveryError):
    """5xx, timeouts, network trouble: try again later with backoff."""


class ChatMigrated(DeliveryError):
    """The group became a supergroup: send to `new_chat_id` instead."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class NotModified(DeliveryError):
    """An edit that changes nothing: the message already says this."""


class PermanentError(DeliveryError):
    """Retrying will not help. `reason` is one of the REASONS below."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


FORBIDDEN = "forbidden"
CHAT_NOT_FOUND = "chat_not_found"
THREAD_NOT_FOUND = "thread_not_found"
MESSAGE_NOT_FOUND = "message_not_found"
BAD_MARKUP = "bad_markup"
TOO_LONG = "too_long"
BAD_REQUEST = "bad_request"
MAX_AGE = "max_age"
TOPIC_MISSING = "topic_missing"
REASONS = (
    FORBIDDEN,
    CHAT_NOT_FOUND,
    THREAD_NOT_FOUND,
    MESSAGE_NOT_FOUND,
    BAD_MARKUP,
    TOO_LONG,
    BAD_REQUEST,
    MAX_AGE,
    TOPIC_MISSING,
)

_BAD_REQUESTS = (
    ("message is not modified", None),
    ("chat not found", CHAT_NOT_FOUND),
    ("message thread not found", THREAD_NOT_FOUND),
    ("topic_id_invalid", THREAD_NOT_FOUND),
    ("topic_deleted", THREAD_NOT_FOUND),
    ("topic_closed", THREAD_NOT_FOUND),
    ("message to edit not found", MESSAGE_NOT_FOUND),
    ("message to be replied not found", MESSAGE_NOT_FOUND),
    ("message to copy not found", MESSAGE_NOT_FOUND),
    ("message can't be edited", MESSAGE_NOT_FOUND),
    ("can't parse entities", BAD_MARKUP),
    ("unsupported start tag", BAD_MARKUP),
    ("message is too long", TOO_LONG),
    ("caption is too long", TOO_LONG),
    ("user is deactivated", FORBIDDEN),
    ("not enough rights", FORBIDDEN),
    ("have no rights", FORBIDDEN),
)


def classify(
    status: int,
    description: str,
    *,
    retry_after: float | None = None,
    migrate_to_chat_id: int | None = None,
) -> DeliveryError:
    """The error a failed Bot API call stands for."""
    if retry_after is not None or status == 429:
        return RetryAfter(retry_after if retry_after is not None else 1.0, description)
    if migrate_to_chat_id is not None:
        return ChatMigrated(migrate_to_chat_id)
    lowered = description.lower()
    if status == 403:
        return PermanentError(FORBIDDEN, description)
    if status == 400:
        for needle, reason in _BAD_REQUESTS:
            if needle in lowered:
                return (
                    NotModified(description)
                    if reason is None
                    else PermanentError(reason, description)
                )
        return PermanentError(BAD_REQUEST, description)
    if status == 404 and "chat not found" in lowered:
        return PermanentError(CHAT_NOT_FOUND, description)
    # 5xx, 401 (a token problem is not this row's fault), 409, anything unknown.
    return TransientError(f"{status}: {description}")
