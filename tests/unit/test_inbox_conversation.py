"""Which ordered stream an update belongs to (services/inbox/conversation.py)."""

from __future__ import annotations

from services.inbox.conversation import stream_of


def _message(chat: dict, **extra: object) -> dict:
    return {"message_id": 1, "date": 0, "chat": chat, **extra}


def test_a_private_chat_is_one_limited_stream() -> None:
    stream = stream_of({"update_id": 1, "message": _message({"id": 1001, "type": "private"})})
    assert (stream.key, stream.limited) == ("1001", True)


def test_each_forum_topic_is_its_own_stream_and_staff_are_not_limited() -> None:
    chat = {"id": -100, "type": "supergroup", "is_forum": True}
    in_topic = _message(chat, message_thread_id=7, is_topic_message=True)
    reply_in_general = _message(chat, message_thread_id=3)  # a reply thread, not a topic
    assert stream_of({"update_id": 1, "message": in_topic}).key == "-100:7"
    assert stream_of({"update_id": 2, "message": reply_in_general}).key == "-100"
    assert not stream_of({"update_id": 1, "message": in_topic}).limited


def test_a_button_press_joins_the_stream_of_its_message() -> None:
    press = {
        "id": "q",
        "from": {"id": 1001, "is_bot": False, "first_name": "B"},
        "chat_instance": "c",
        "data": "x",
        "message": _message({"id": 1001, "type": "private"}),
    }
    assert stream_of({"update_id": 3, "callback_query": press}).key == "1001"
    del press["message"]  # an inline message: no chat, the person is the stream
    assert stream_of({"update_id": 4, "callback_query": press}).key == "user:1001"


def test_updates_without_a_chat_still_get_a_stream() -> None:
    member = {"chat": {"id": -5, "type": "group"}, "from": {"id": 9}}
    assert stream_of({"update_id": 5, "my_chat_member": member}).key == "-5"
    assert stream_of({"update_id": 6, "poll": {"id": "p"}}).key == "update:6"
