"""aiogram builds `Response[<result>]` on every Bot API call; bot.sender keeps each built model
alive, so pydantic's weak cache serves it instead of building it again (bot/sender.py)."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendMessage
from aiogram.methods.base import Response

import bot.sender
from bot.botapi_json import result_of
from services.delivery import errors


def test_the_answer_models_of_the_bot_api_outlive_a_call() -> None:
    assert bot.sender.RESPONSE_MODELS
    for method in (SendMessage, AnswerCallbackQuery, GetUpdates):
        built = weakref.ref(Response[method.__returning__])  # type: ignore[name-defined]
        gc.collect()
        assert built() is not None, method.__name__
        assert Response[method.__returning__] is built()  # type: ignore[name-defined]


# A call without a file is posted as JSON and its answer read as JSON (botapi_json.result_of,
# sender.plain_answer): each Bot API answer means what aiogram's reading of it meant.


def _answer(status: int, body: object) -> dict[str, Any]:
    return bot.sender.plain_answer(result_of(status, json.dumps(body).encode()))


def _error(status: int, description: str, **parameters: int) -> dict[str, Any]:
    body = {"ok": False, "error_code": status, "description": description}
    return body | ({"parameters": parameters} if parameters else {})


def test_a_sent_message_gives_its_id_chat_and_topic() -> None:
    message = {"message_id": 7, "chat": {"id": -100, "type": "supergroup"}, "date": 1}
    assert _answer(200, {"ok": True, "result": message}) == {"message_id": 7, "chat_id": -100}
    in_topic = message | {"message_thread_id": 42}
    assert _answer(200, {"ok": True, "result": in_topic})["message_thread_id"] == 42


def test_a_topic_a_copy_and_true_keep_their_plain_shapes() -> None:
    topic = {"message_thread_id": 5, "name": "#12 <&> Budi", "icon_color": 1}
    plain = {"message_thread_id": 5, "name": topic["name"]}
    assert _answer(200, {"ok": True, "result": topic}) == plain
    assert _answer(200, {"ok": True, "result": {"message_id": 9}}) == {"message_id": 9}
    assert _answer(200, {"ok": True, "result": True}) == {"ok": True}


def test_errors_are_classified_as_for_aiogram() -> None:
    with pytest.raises(errors.RetryAfter) as waited:
        _answer(429, _error(429, "Too Many Requests: retry after 7", retry_after=7))
    assert waited.value.seconds == 7
    with pytest.raises(errors.ChatMigrated) as moved:
        _answer(400, _error(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-1009))
    assert moved.value.new_chat_id == -1009
    with pytest.raises(errors.PermanentError) as forbidden:
        _answer(403, _error(403, "Forbidden: bot was blocked by the user"))
    assert forbidden.value.reason == errors.FORBIDDEN
    with pytest.raises(errors.PermanentError) as too_long:
        _answer(413, _error(413, "Request Entity Too Large"))
    assert too_long.value.reason == errors.TOO_LONG
    with pytest.raises(errors.TransientError):
        _answer(502, _error(502, "Bad Gateway"))


def test_a_body_that_is_no_bot_api_answer_is_transient() -> None:
    for raw in (b"<html>502 Bad Gateway</html>", b"", b"[1, 2]", "\u00e9<&>".encode() * 2000):
        with pytest.raises(errors.TransientError):
            result_of(502, raw)
