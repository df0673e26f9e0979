"""The one refusal path: every action of the permission table has a sentence in both languages,
and the middleware answers a refusal no handler caught (as an alert on a button, a reply to a
message) instead of letting it reach the generic apology."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.types import CallbackQuery, Chat, Message, User
from aiogram.utils.i18n import I18n

from handlers.refusals import Refusals, Usage, refusal
from services.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, compile_catalogues
from services.staff import Action, NotAllowed


@pytest.fixture(scope="module")
def i18n() -> I18n:
    compile_catalogues()
    return I18n(path=LOCALES_DIR, default_locale="en", domain=DOMAIN)


@pytest.fixture(autouse=True)
def in_context(i18n: I18n) -> Iterator[None]:
    with i18n.context():
        yield


@pytest.mark.parametrize("action", list(Action))
def test_every_action_has_a_sentence_in_each_language(action: Action, i18n: I18n) -> None:
    sentences = set()
    for language in LANGUAGES:
        with i18n.use_locale(language):
            text = refusal(NotAllowed(action))
        assert text and text != "That did not work."
        sentences.add(text)
    assert len(sentences) == len(LANGUAGES), sentences  # translated, not the msgid twice


class Answers:
    def __init__(self) -> None:
        self.said: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, text: str, **kwargs: Any) -> None:
        self.said.append((text, kwargs))


def _message() -> Message:
    return Message.model_validate(
        {
            "message_id": 1,
            "date": 0,
            "chat": Chat(id=-100, type="supergroup"),
            "from": User(id=7, is_bot=False, first_name="Tono"),
            "text": "/ban 5",
        }
    )


async def _refused(event: Any, data: dict[str, Any]) -> None:
    raise NotAllowed(Action.BAN_CUSTOMER)


async def test_a_refused_message_is_answered_once() -> None:
    message = _message()
    answers = Answers()
    object.__setattr__(message, "answer", answers)
    assert await Refusals()(_refused, message, {}) is None
    assert answers.said == [(refusal(NotAllowed(Action.BAN_CUSTOMER)), {})]


async def test_a_refused_button_is_answered_as_an_alert() -> None:
    query = CallbackQuery.model_validate(
        {"id": "q", "from": User(id=7, is_bot=False, first_name="Tono"),
         "chat_instance": "c", "data": "tk:5:ban"}
    )  # fmt: skip
    answers = Answers()
    object.__setattr__(query, "answer", answers)
    await Refusals()(_refused, query, {})
    assert answers.said == [(refusal(NotAllowed(Action.BAN_CUSTOMER)), {"show_alert": True})]


async def test_other_errors_go_on_to_the_error_handler() -> None:
    async def broken(event: Any, data: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await Refusals()(broken, _message(), {})


async def test_a_command_typed_wrong_is_answered_with_its_usage_escaped() -> None:
    async def typed_wrong(event: Any, data: dict[str, Any]) -> None:
        raise Usage("Usage: /note <text>, inside an incident's room.")

    message = _message()
    answers = Answers()
    object.__setattr__(message, "answer", answers)
    assert await Refusals()(typed_wrong, message, {}) is None
    assert answers.said == [("Usage: /note &lt;text&gt;, inside an incident's room.", {})]
