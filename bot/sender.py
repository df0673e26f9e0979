"""The delivery worker's `Sender`, implemented with an aiogram `Bot`.

It calls below the session middlewares: the worker does its own waiting, retrying and rate
limiting, so the direct-reply retry middleware (`bot.session`) must not retry underneath it.
A call without a file is posted as JSON and its answer read as JSON (`bot.botapi_json`):
aiogram's model of the method, multipart form and `Message` validation were about a third of a
send's CPU, for a `message_id`. Uploads still go through aiogram's `make_request`.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram import methods as all_methods
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    EditForumTopic,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    PinChatMessage,
    ReopenForumTopic,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response
from aiogram.types import BufferedInputFile, ForumTopic, FSInputFile, Message, MessageId
from pydantic import ValidationError

from bot import botapi_json
from services.delivery import errors

# aiogram reads every answer of the Bot API as `Response[<the method's result>]`, built on each
# call; pydantic keeps a parametrised model only while something references it (a weak-value
# cache), and nothing did, so every call built the model again: about half of a send's CPU
# (py-spy on bench/support_throughput.py). Held here, for every method, for the process's life.
RESPONSE_MODELS = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for name in all_methods.__all__
    if isinstance(method := getattr(all_methods, name), type)
    and issubclass(method, TelegramMethod)
    and method is not TelegramMethod
    and hasattr(method, "__returning__")
)

METHODS: dict[str, type[TelegramMethod[Any]]] = {
    "sendMessage": SendMessage,
    "sendPhoto": SendPhoto,
    "sendDocument": SendDocument,
    "copyMessage": CopyMessage,
    "editMessageText": EditMessageText,
    "editMessageCaption": EditMessageCaption,
    "editMessageReplyMarkup": EditMessageReplyMarkup,
    "createForumTopic": CreateForumTopic,
    "editForumTopic": EditForumTopic,
    "closeForumTopic": CloseForumTopic,
    "reopenForumTopic": ReopenForumTopic,
    "pinChatMessage": PinChatMessage,
}
FILE_FIELDS = ("photo", "document")

_STATUS: tuple[tuple[type[TelegramAPIError], int], ...] = (
    (TelegramBadRequest, 400),
    (TelegramUnauthorizedError, 401),
    (TelegramForbiddenError, 403),
    (TelegramNotFound, 404),
    (TelegramConflictError, 409),
    (TelegramServerError, 500),
)


class AiogramSender:
    def __init__(self, bot: Bot, *, timeout: float = 20.0) -> None:
        self.bot = bot
        self.timeout = timeout

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method not in METHODS:
            raise errors.PermanentError(errors.BAD_REQUEST, f"unknown method {method}")
        if botapi_json.posts_json(self.bot) and not any(
            isinstance(params.get(field), dict) for field in FILE_FIELDS
        ):
            return plain_answer(await botapi_json.post(self.bot, method, params, self.timeout))
        request = build_method(method, params)
        try:
            answer = await self.bot.session.make_request(
                self.bot, request, timeout=int(max(1, round(self.timeout)))
            )
        except TelegramAPIError as exc:
            raise to_delivery_error(exc) from exc
        return plain_result(answer)


def plain_answer(result: Any) -> dict[str, Any]:
    """A result as JSON, in `Sender.call`'s plain shape (as `plain_result` for aiogram's)."""
    if isinstance(result, dict):
        if isinstance(result.get("chat"), dict) and "message_id" in result:
            plain: dict[str, Any] = {
                "message_id": result["message_id"],
                "chat_id": result["chat"]["id"],
            }
            if result.get("message_thread_id") is not None:
                plain["message_thread_id"] = result["message_thread_id"]
            return plain
        if "message_thread_id" in result and "name" in result:
            return {"message_thread_id": result["message_thread_id"], "name": result["name"]}
        if "message_id" in result:
            return {"message_id": result["message_id"]}
    return {"ok": bool(result)}


def build_method(method: str, params: dict[str, Any]) -> TelegramMethod[Any]:
    kind = METHODS.get(method)
    if kind is None:
        raise errors.PermanentError(errors.BAD_REQUEST, f"unknown method {method}")
    values = dict(params)
    if ("text" in values or "caption" in values) and "parse_mode" not in values:
        values["parse_mode"] = None  # plain text, whatever the Bot's default parse mode is
    for field in FILE_FIELDS:
        if isinstance(values.get(field), dict):
            values[field] = _input_file(values[field])
    try:
        return kind.model_validate(values)
    except ValidationError as exc:
        raise errors.PermanentError(errors.BAD_REQUEST, f"bad parameters: {exc}") from exc


def _input_file(spec: dict[str, Any]) -> BufferedInputFile | FSInputFile:
    if "path" in spec:
        return FSInputFile(Path(spec["path"]), filename=spec.get("filename"))
    data = base64.b64decode(spec.get("base64", ""))
    return BufferedInputFile(data, filename=spec.get("filename") or "file")


def to_delivery_error(exc: TelegramAPIError) -> errors.DeliveryError:
    if isinstance(exc, TelegramRetryAfter):
        return errors.RetryAfter(float(exc.retry_after), exc.message)
    if isinstance(exc, TelegramMigrateToChat):
        return errors.ChatMigrated(exc.migrate_to_chat_id)
    if isinstance(exc, TelegramEntityTooLarge):
        return errors.PermanentError(errors.TOO_LONG, exc.message)
    if isinstance(exc, TelegramNetworkError):
        return errors.TransientError(f"network: {exc.message}")
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return errors.classify(status, exc.message)
    return errors.TransientError(exc.message)


def plain_result(answer: Any) -> dict[str, Any]:
    if isinstance(answer, Message):
        result: dict[str, Any] = {"message_id": answer.message_id, "chat_id": answer.chat.id}
        if answer.message_thread_id is not None:
            result["message_thread_id"] = answer.message_thread_id
        return result
    if isinstance(answer, ForumTopic):
        return {"message_thread_id": answer.message_thread_id, "name": answer.name}
    if isinstance(answer, MessageId):
        return {"message_id": answer.message_id}
    return {"ok": bool(answer)}
