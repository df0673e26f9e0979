"""Bot API methods that send, edit and delete messages, and answer button presses."""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from .models import Chat, Json, Message, StoredFile
from .params import Params, Upload, bad_request
from .runtime import Runtime

Handler = Callable[[Runtime, Params], Awaitable[Any]]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def publish(rt: Runtime, kind: str, message: Message) -> None:
    rt.world.bus.publish(
        kind, {"chat_id": message.chat_id, "message": rt.world.message_view(message)}
    )


def _prepare(rt: Runtime, p: Params, chat: Chat) -> dict[str, Any]:
    """Checks common to every send, done before the send is counted against the limits."""
    return {
        "message_thread_id": rt.thread(chat, p.get_int("message_thread_id")),
        "reply_to": rt.reply_to(p, chat),
        "reply_markup": rt.reply_markup(p),
    }


def _store(rt: Runtime, chat: Chat, common: dict[str, Any], **fields: Any) -> Message:
    message = rt.world.add_message(chat, rt.world.bot.id, **common, **fields)
    publish(rt, "message_new", message)
    return message


async def send_message(rt: Runtime, p: Params) -> Json:
    if not p.has("text"):
        raise bad_request("message text is empty")
    chat = rt.chat(p.chat_ref(), for_sending=True)
    text, entities, html, parse_mode = rt.formatted(p, "text", "entities", caption=False)
    common = _prepare(rt, p, chat)
    rt.check_rate("sendMessage", chat)
    preview = p.get_json("link_preview_options")
    if preview is None and p.get_bool("disable_web_page_preview"):
        preview = {"is_disabled": True}
    message = _store(
        rt,
        chat,
        common,
        text=text,
        entities=entities,
        html=html,
        parse_mode=parse_mode,
        link_preview_options=preview,
    )
    return rt.world.message_to_api(message)


def _file(rt: Runtime, p: Params, name: str, kind: str) -> StoredFile:
    value = p.upload(name)
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(value, Upload):
        mime = value.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(value.filename or "")[0] or mime
        return rt.world.add_file(
            value.data,
            kind,
            file_name=value.filename if kind == "document" else None,
            mime_type=mime if kind == "document" else None,
        )
    stored = rt.world.files.get(value)
    if stored is not None:
        return stored
    if value.startswith(("http://", "https://")):
        name_part = value.rsplit("/", 1)[-1] or "file"
        return rt.world.add_file(b"", kind, file_name=name_part)
    raise bad_request("wrong file identifier/HTTP URL specified")


def _caption(rt: Runtime, p: Params) -> dict[str, Any]:
    """A media message's caption fields as sent or edited (`caption`, `caption_entities`,
    `parse_mode`): an empty caption is none, and so is its HTML."""
    caption, entities, html, parse_mode = rt.formatted(
        p, "caption", "caption_entities", caption=True
    )
    return {
        "caption": caption or None,
        "caption_entities": entities,
        "html": html if caption else None,
        "parse_mode": parse_mode,
    }


async def _send_media(rt: Runtime, p: Params, method: str, kind: str) -> Json:
    chat = rt.chat(p.chat_ref(), for_sending=True)
    caption = _caption(rt, p)
    common = _prepare(rt, p, chat)
    stored = _file(rt, p, kind, kind)
    rt.check_rate(method, chat)
    message = _store(rt, chat, common, **caption, **{kind: stored})
    return rt.world.message_to_api(message)


async def send_photo(rt: Runtime, p: Params) -> Json:
    return await _send_media(rt, p, "sendPhoto", "photo")


async def send_document(rt: Runtime, p: Params) -> Json:
    return await _send_media(rt, p, "sendDocument", "document")


def _source(rt: Runtime, p: Params, missing: str) -> Message:
    source_chat = rt.chat(p.chat_ref("from_chat_id"))
    return rt.message(source_chat, p.get_int("message_id", required="message_id is empty"), missing)


async def copy_message(rt: Runtime, p: Params) -> Json:
    source = _source(rt, p, "message to copy not found")
    if source.service:
        raise bad_request("message can't be copied")
    chat = rt.chat(p.chat_ref(), for_sending=True)
    common = _prepare(rt, p, chat)
    fields: dict[str, Any] = {
        "text": source.text,
        "entities": list(source.entities),
        "photo": source.photo,
        "document": source.document,
        "caption": source.caption,
        "caption_entities": list(source.caption_entities),
        "html": source.html,
        "parse_mode": source.parse_mode,
    }
    if p.raw("caption") is not None and (source.photo or source.document):
        caption, entities, html, parse_mode = rt.formatted(
            p, "caption", "caption_entities", caption=True
        )
        fields.update(
            caption=caption or None, caption_entities=entities, html=html, parse_mode=parse_mode
        )
    rt.check_rate("copyMessage", chat)
    message = _store(rt, chat, common, **fields)
    return {"message_id": message.message_id}


async def forward_message(rt: Runtime, p: Params) -> Json:
    source = _source(rt, p, "message to forward not found")
    chat = rt.chat(p.chat_ref(), for_sending=True)
    common = _prepare(rt, p, chat)
    rt.check_rate("forwardMessage", chat)
    sender = rt.world.users.get(source.from_id)
    origin: Json = {"type": "user", "date": source.date}
    if source.sender_chat_id is not None:  # sent on behalf of a chat (MessageOriginChat)
        on_behalf = rt.world.chats[source.sender_chat_id].to_api()
        origin = {"type": "chat", "date": source.date, "sender_chat": on_behalf}
    elif sender is not None:
        origin["sender_user"] = sender.to_api()
    message = _store(
        rt,
        chat,
        common,
        text=source.text,
        entities=list(source.entities),
        photo=source.photo,
        document=source.document,
        caption=source.caption,
        caption_entities=list(source.caption_entities),
        html=source.html,
        forward_origin=origin,
    )
    return rt.world.message_to_api(message)


def _editable(rt: Runtime, p: Params) -> Message:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = rt.chat(p.chat_ref())
    message = rt.message(
        chat,
        p.get_int("message_id", required="message identifier is not specified"),
        "message to edit not found",
    )
    if message.from_id != rt.world.bot.id or message.forward_origin is not None:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(rt: Runtime, message: Message, **changes: Any) -> Json:
    before = message.content_key()
    for key, value in changes.items():
        setattr(message, key, value)
    if message.content_key() == before:
        raise bad_request(NOT_MODIFIED)
    message.edit_date = rt.world.now()
    message.edit_count += 1
    if message.chat_id < 0:
        rt.limiter.note_group_edit(message.chat_id)
    publish(rt, "message_edited", message)
    return rt.world.message_to_api(message)


async def edit_message_text(rt: Runtime, p: Params) -> Json:
    message = _editable(rt, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    if not p.has("text"):
        raise bad_request("text must be non-empty")
    text, entities, html, parse_mode = rt.formatted(p, "text", "entities", caption=False)
    return _apply_edit(
        rt,
        message,
        text=text,
        entities=entities,
        html=html,
        parse_mode=parse_mode,
        reply_markup=rt.reply_markup(p),
    )


async def edit_message_caption(rt: Runtime, p: Params) -> Json:
    message = _editable(rt, p)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    return _apply_edit(rt, message, **_caption(rt, p), reply_markup=rt.reply_markup(p))


async def edit_message_reply_markup(rt: Runtime, p: Params) -> Json:
    message = _editable(rt, p)
    return _apply_edit(rt, message, reply_markup=rt.reply_markup(p))


async def delete_message(rt: Runtime, p: Params) -> bool:
    chat = rt.chat(p.chat_ref())
    message_id = p.get_int("message_id", required="message identifier is not specified")
    message = rt.message(chat, message_id, "message to delete not found")
    if message.service and "forum_topic_created" in message.service:
        raise bad_request("message can't be deleted")
    message.deleted = True
    rt.world.bus.publish("message_deleted", {"chat_id": chat.id, "message_id": message.message_id})
    return True


async def send_chat_action(rt: Runtime, p: Params) -> bool:
    chat = rt.chat(p.chat_ref(), for_sending=True)
    action = p.get_str("action", required="action is empty") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    thread = rt.thread(chat, p.get_int("message_thread_id"))
    rt.world.bus.publish(
        "chat_action", {"chat_id": chat.id, "action": action, "message_thread_id": thread}
    )
    return True


async def answer_callback_query(rt: Runtime, p: Params) -> bool:
    query_id = p.get_str("callback_query_id", required="query_id is empty") or ""
    query = rt.world.callbacks.get(query_id)
    too_old = query is None or rt.world.clock() - query.created > rt.config.callback_ttl
    if query is None or query.answered or too_old:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.text = text
    query.show_alert = p.get_bool("show_alert")
    query.url = p.get_str("url")
    rt.world.bus.publish("callback_answered", query.control_view())
    return True


def _pin_target(rt: Runtime, p: Params) -> tuple[Chat, Message]:
    chat = rt.chat(p.chat_ref())
    if chat.type == "private":
        return chat, rt.message(chat, p.get_int("message_id"), "message to pin not found")
    if rt.world.bot.id not in chat.admins:
        raise bad_request("not enough rights to manage pinned messages in the chat")
    return chat, rt.message(chat, p.get_int("message_id"), "message to pin not found")


async def pin_chat_message(rt: Runtime, p: Params) -> bool:
    """Pins a message (in a forum, also at the top of its topic); pinning it again is fine."""
    p.get_int("message_id", required="message identifier is not specified")
    chat, message = _pin_target(rt, p)
    message.pinned = True
    rt.world.bus.publish("message_pinned", {"chat_id": chat.id, "message_id": message.message_id})
    return True


async def unpin_chat_message(rt: Runtime, p: Params) -> bool:
    chat = rt.chat(p.chat_ref())
    message_id = p.get_int("message_id")
    pinned = [m for m in chat.messages.values() if m.pinned and not m.deleted]
    if message_id is not None:
        pinned = [m for m in pinned if m.message_id == message_id]
    elif pinned:
        pinned = [max(pinned, key=lambda m: m.message_id)]
    if not pinned:
        raise bad_request("message to unpin not found")
    for message in pinned:
        message.pinned = False
    return True


METHODS: dict[str, Handler] = {
    "pinchatmessage": pin_chat_message,
    "unpinchatmessage": unpin_chat_message,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "sendchataction": send_chat_action,
    "answercallbackquery": answer_callback_query,
}
