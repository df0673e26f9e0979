"""Turn an outbox row into the Bot API calls that deliver it (pure: no I/O)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import Any

from services.delivery import sender as m
from services.delivery.config import DeliveryConfig
from services.delivery.rows import OutboxRow
from services.delivery.splitter import first_line, readable_text, split_text, visible_text
from services.i18n import gettext as _
from services.outbox import PRIVATE_KEY_PREFIX
from services.text import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, esc

_SHORTENED_RESERVE = 120


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    new_message: bool = field(default=False)  # takes a token from the chat's bucket


@dataclass(frozen=True)
class Target:
    """Where the row goes once its references are resolved."""

    chat_id: int
    thread_id: int | None = None
    message_id: int | None = None  # the message an edit changes or a send replies to


def _html(payload: dict[str, Any]) -> bool:
    return str(payload.get("parse_mode") or "").lower() == "html"


def _base(row: OutboxRow, target: Target) -> dict[str, Any]:
    params: dict[str, Any] = {"chat_id": target.chat_id}
    if target.thread_id is not None:
        params["message_thread_id"] = target.thread_id
    return params


def _reply(row: OutboxRow, target: Target) -> dict[str, Any]:
    if row.ref_id is None or target.message_id is None:
        return {}
    return {
        "reply_parameters": {
            "message_id": target.message_id,
            "allow_sending_without_reply": True,
        }
    }


def text_calls(row: OutboxRow, target: Target, config: DeliveryConfig) -> list[Call]:
    payload = dict(row.payload)
    text = str(payload.pop("text", ""))
    html_mode = _html(payload)
    parts = split_text(text, html_mode=html_mode)
    base = {**_base(row, target), **payload}
    if len(parts) == 1:
        return [Call(m.SEND_MESSAGE, {**base, **_reply(row, target), "text": parts[0]}, True)]
    if len(parts) > config.max_parts:
        return [document_call(row, target, text, html_mode, len(parts))]
    markup = base.pop("reply_markup", None)
    calls = []
    for index, part in enumerate(parts):
        params = {**base, "text": part}
        if index == 0:
            params.update(_reply(row, target))
        if index == len(parts) - 1 and markup is not None:
            params["reply_markup"] = markup
        calls.append(Call(m.SEND_MESSAGE, params, True))
    return calls


def document_call(row: OutboxRow, target: Target, text: str, html_mode: bool, parts: int) -> Call:
    """A text too long for a few messages: its readable text as a file, its first line above."""
    plain = visible_text(text, html_mode=html_mode)
    note = _("The full text ({count} characters) is in the attached file.").format(count=len(plain))
    headline = first_line(text, html_mode=html_mode, limit=TELEGRAM_CAPTION_LIMIT - 200)
    params: dict[str, Any] = {
        **_base(row, target),
        "document": {
            "base64": base64.b64encode(plain.encode()).decode(),
            "filename": f"message-{row.id}.txt",
        },
        "caption": f"<b>{esc(headline)}</b>\n{esc(note)}" if headline else esc(note),
        "parse_mode": "HTML",
        **_reply(row, target),
    }
    if "reply_markup" in row.payload:
        params["reply_markup"] = row.payload["reply_markup"]
    return Call(m.SEND_DOCUMENT, params, True)


def plain_text_calls(row: OutboxRow, target: Target, config: DeliveryConfig) -> list[Call]:
    """Telegram refused the markup: send what a reader would have seen, as plain text."""
    payload = dict(row.payload)
    raw = str(payload.get("text", ""))
    payload["text"] = readable_text(raw) if _html(payload) else raw
    payload.pop("parse_mode", None)
    payload.pop("entities", None)
    return text_calls(replace(row, payload=payload), target, config)


def shortened(text: str, html_mode: bool) -> str:
    """An edit cannot become several messages: keep the first part and say so."""
    parts = split_text(text, html_mode=html_mode, limit=TELEGRAM_TEXT_LIMIT - _SHORTENED_RESERVE)
    if len(parts) == 1:
        return text
    marker = _("(shortened: the full text is longer than one message)")
    return parts[0] + "\n…\n" + (esc(marker) if html_mode else marker)


def edit_calls(row: OutboxRow, target: Target) -> list[Call]:
    payload = dict(row.payload)
    payload.pop("message_id", None)
    params = {"chat_id": target.chat_id, "message_id": target.message_id, **payload}
    if row.kind == "edit_markup":
        return [Call(m.EDIT_MARKUP, {k: v for k, v in params.items() if k != "text"})]
    if "text" in payload:
        params["text"] = shortened(str(payload["text"]), _html(payload))
        return [Call(m.EDIT_TEXT, params)]
    return [Call(m.EDIT_CAPTION, params)]


_TOPIC_METHODS = {
    "create_topic": m.CREATE_TOPIC,
    "edit_topic": m.EDIT_TOPIC,
    "close_topic": m.CLOSE_TOPIC,
    "reopen_topic": m.REOPEN_TOPIC,
}
_MEDIA_METHODS = {"photo": m.SEND_PHOTO, "document": m.SEND_DOCUMENT, "copy": m.COPY_MESSAGE}


def build_calls(row: OutboxRow, target: Target, config: DeliveryConfig) -> list[Call]:
    if any(key.startswith(PRIVATE_KEY_PREFIX) for key in row.payload):
        kept = {k: v for k, v in row.payload.items() if not k.startswith(PRIVATE_KEY_PREFIX)}
        row = replace(row, payload=kept)
    if row.kind == "text":
        return text_calls(row, target, config)
    if row.kind in ("edit", "edit_markup"):
        return edit_calls(row, target)
    if row.kind == "pin":
        params = {"chat_id": target.chat_id, "message_id": target.message_id, **row.payload}
        return [Call(m.PIN_MESSAGE, params)]
    if row.kind == "create_topic":
        return [Call(m.CREATE_TOPIC, {"chat_id": target.chat_id, **row.payload})]
    if row.kind in _TOPIC_METHODS:
        params = {"chat_id": target.chat_id, "message_thread_id": target.thread_id, **row.payload}
        return [Call(_TOPIC_METHODS[row.kind], params)]
    method = _MEDIA_METHODS[row.kind]
    return [Call(method, {**_base(row, target), **_reply(row, target), **row.payload}, True)]


def text_of(row: OutboxRow) -> str:
    """The first line a digest lists for this row."""
    payload = row.payload
    body = payload.get("text") or payload.get("caption") or payload.get("name") or ""
    line = first_line(str(body), html_mode=_html(payload))
    return line or row.kind
