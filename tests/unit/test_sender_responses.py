"""aiogram builds `Response[<result>]` on every Bot API call; bot.sender keeps each built model
alive, so pydantic's weak cache serves it instead of building it again (bot/sender.py)."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendMessage
from aiogram.methods.base import Response

import bot.sender


def test_the_answer_models_of_the_bot_api_outlive_a_call() -> None:
    assert bot.sender.RESPONSE_MODELS
    for method in (SendMessage, AnswerCallbackQuery, GetUpdates):
        built = weakref.ref(Response[method.__returning__])  # type: ignore[name-defined]
        gc.collect()
        assert built() is not None, method.__name__
        assert Response[method.__returning__] is built()  # type: ignore[name-defined]
