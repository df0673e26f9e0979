"""The port the worker sends through. `bot.sender.AiogramSender` implements it with aiogram."""

from __future__ import annotations

from typing import Any, Protocol

# Bot API methods the worker calls.
SEND_MESSAGE = "sendMessage"
SEND_PHOTO = "sendPhoto"
SEND_DOCUMENT = "sendDocument"
COPY_MESSAGE = "copyMessage"
EDIT_TEXT = "editMessageText"
EDIT_CAPTION = "editMessageCaption"
EDIT_MARKUP = "editMessageReplyMarkup"
CREATE_TOPIC = "createForumTopic"
EDIT_TOPIC = "editForumTopic"
CLOSE_TOPIC = "closeForumTopic"
REOPEN_TOPIC = "reopenForumTopic"
PIN_MESSAGE = "pinChatMessage"

# Methods that post a new message: these take a token from the chat's bucket.
NEW_MESSAGE_METHODS = frozenset({SEND_MESSAGE, SEND_PHOTO, SEND_DOCUMENT, COPY_MESSAGE})


class Sender(Protocol):
    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call a Bot API method with plain JSON parameters.

        Files are `{"base64": ..., "filename": ...}` or `{"path": ..., "filename"?}` (or a
        file_id string). Returns the result as a plain dict: a message gives
        `{"message_id", "chat_id", "message_thread_id"?}`, a topic `{"message_thread_id",
        "name"}`, `True` gives `{"ok": True}`. Raises `services.delivery.errors.DeliveryError`.
        """
        ...
