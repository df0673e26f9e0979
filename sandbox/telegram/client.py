"""An async client for the emulator's control API: the people's side, for tests and tools."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

Json = dict[str, Any]
Predicate = Callable[[Json], bool]


class EmulatorError(RuntimeError):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"emulator answered {status}: {text}")
        self.status = status
        self.text = text


def _describe(message: Json) -> str:
    sender = message.get("from", {})
    who = "bot" if sender.get("is_bot") else f"user {sender.get('id')}"
    body = message.get("text") or message.get("caption") or ""
    media = " [photo]" if "photo" in message else " [document]" if "document" in message else ""
    thread = f" thread={message['message_thread_id']}" if "message_thread_id" in message else ""
    edits = f" edits={message.get('edit_count')}" if message.get("edit_count") else ""
    return f"  #{message['message_id']} {who}{thread}{edits}{media}: {body[:200]!r}"


class EmulatorClient:
    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        poll_interval: float = 0.05,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None
        self.poll_interval = poll_interval

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, path: str, body: Json | None = None, query: Json | None = None
    ) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        url = f"{self.base_url}/control/{path}"
        async with self._session.request(method, url, json=body, params=params) as response:
            if response.status >= 300:
                raise EmulatorError(response.status, await response.text())
            return await response.json()

    # people and chats -------------------------------------------------------------------

    async def create_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool | None = None,
    ) -> Json:
        """`started=True`: the person already wrote to the bot in private (pressed Start), so
        the bot may message them; otherwise that happens when they first send something."""
        body: Json = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        if started is not None:
            body["started"] = started
        result: Json = await self._call("POST", "users", body)
        return result

    async def create_chat(
        self,
        title: str,
        *,
        type: str = "supergroup",
        is_forum: bool = False,
        members: list[int] | tuple[int, ...] = (),
        admins: list[int] | tuple[int, ...] = (),
        chat_id: int | None = None,
        username: str | None = None,
    ) -> Json:
        body = {
            "title": title,
            "type": type,
            "is_forum": is_forum,
            "members": list(members),
            "admins": list(admins),
            "id": chat_id,
            "username": username,
        }
        result: Json = await self._call("POST", "chats", body)
        return result

    async def chats(self) -> list[Json]:
        result: list[Json] = await self._call("GET", "chats")
        return result

    async def block(self, user_id: int) -> None:
        await self._call("POST", f"users/{user_id}/block")

    async def unblock(self, user_id: int) -> None:
        await self._call("POST", f"users/{user_id}/unblock")

    async def migrate(self, chat_id: int) -> int:
        result = await self._call("POST", f"chats/{chat_id}/migrate")
        return int(result["new_chat_id"])

    async def topics(self, chat_id: int) -> list[Json]:
        result: list[Json] = await self._call("GET", f"chats/{chat_id}/topics")
        return result

    async def delete_topic(self, chat_id: int, thread_id: int) -> None:
        await self._call("POST", f"chats/{chat_id}/topics/{thread_id}/delete")

    # acting -----------------------------------------------------------------------------

    async def _send(self, body: Json) -> Json:
        result: Json = await self._call("POST", "send", body)
        return result

    async def send_text(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        thread_id: int | None = None,
        reply_to: int | None = None,
        entities: list[Json] | None = None,
        as_chat: int | None = None,
    ) -> Json:
        """`as_chat`: sent on behalf of a chat, as Telegram allows an administrator: the group
        itself (its anonymous admin) or a channel they administer ("send as" the channel)."""
        return await self._send(
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "text": text,
                "thread_id": thread_id,
                "reply_to": reply_to,
                "entities": entities,
                "as_chat": as_chat,
            }
        )

    async def send_photo(
        self,
        user_id: int,
        chat_id: int,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        photo: Any = {"base64": base64.b64encode(data).decode()} if data else True
        return await self._send(
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "photo": photo,
                "caption": caption,
                "thread_id": thread_id,
                "reply_to": reply_to,
            }
        )

    async def send_document(
        self,
        user_id: int,
        chat_id: int,
        data: bytes,
        file_name: str = "document.txt",
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> Json:
        document = {
            "base64": base64.b64encode(data).decode(),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return await self._send(
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "document": document,
                "caption": caption,
                "thread_id": thread_id,
                "reply_to": reply_to,
            }
        )

    async def press(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, force: bool = False
    ) -> str:
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
            "force": force,
        }
        result = await self._call("POST", "press", body)
        return str(result["callback_query_id"])

    async def react(self, user_id: int, chat_id: int, message_id: int, *emoji: str) -> Json:
        """The person sets these reactions on the message (none: takes theirs back)."""
        body = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "emoji": emoji}
        result: Json = await self._call("POST", "react", body)
        return result

    async def inject_update(self, update: Json) -> Json:
        result: Json = await self._call("POST", "inject_update", update)
        return result

    # reading ----------------------------------------------------------------------------

    async def messages(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        since: int = 0,
        include_deleted: bool = False,
    ) -> list[Json]:
        query = {"thread_id": thread_id, "since": since, "include_deleted": int(include_deleted)}
        result: list[Json] = await self._call("GET", f"chats/{chat_id}/messages", query=query)
        return result

    async def callback(self, query_id: str) -> Json:
        result: Json = await self._call("GET", f"callbacks/{query_id}")
        return result

    async def callback_answer(self, query_id: str, timeout: float = 5.0) -> Json:
        """Wait until the bot answers the press; the answer's text, show_alert and url."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            query = await self.callback(query_id)
            if query["answered"]:
                return query
            if asyncio.get_running_loop().time() >= deadline:
                raise AssertionError(f"callback query {query_id} not answered in {timeout}s")
            await asyncio.sleep(self.poll_interval)

    async def pending_updates(self) -> list[Json]:
        result: list[Json] = await self._call("GET", "updates")
        return result

    async def commands(self) -> list[Json]:
        result: list[Json] = await self._call("GET", "commands")
        return result

    async def stats(self) -> Json:
        result: Json = await self._call("GET", "stats")
        return result

    async def set_limits(self, **fields: Any) -> Json:
        result: Json = await self._call("POST", "limits", fields)
        return result

    async def set_faults(self, **fields: Any) -> Json:
        if isinstance(fields.get("methods"), (set, frozenset, tuple)):
            fields["methods"] = sorted(fields["methods"])
        result: Json = await self._call("POST", "faults", fields)
        return result

    async def reset(self) -> None:
        await self._call("POST", "reset")

    # waiting ----------------------------------------------------------------------------

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        thread_id: int | None = None,
        predicate: Predicate | None = None,
        after_message_id: int | None = None,
        timeout: float = 10.0,
        from_bot: bool | None = True,
    ) -> Json:
        """The first (bot) message after ``after_message_id`` that satisfies ``predicate``.

        Service messages (topic created) are skipped; ``from_bot=False`` waits for a person's
        message instead, ``from_bot=None`` for anyone's.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        since = after_message_id or 0
        while True:
            found = await self.messages(chat_id, thread_id, since=since)
            for message in found:
                if message.get("is_service"):
                    continue
                is_bot = bool(message.get("from", {}).get("is_bot"))
                if from_bot is not None and is_bot != from_bot:
                    continue
                if predicate is None or predicate(message):
                    return message
            if asyncio.get_running_loop().time() >= deadline:
                await self._fail(f"no matching message in chat {chat_id}", chat_id, thread_id)
            await asyncio.sleep(self.poll_interval)

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        *,
        predicate: Predicate | None = None,
        after_edit_count: int = 0,
        timeout: float = 10.0,
    ) -> Json:
        """The message once edited more than ``after_edit_count`` times (and matching)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.messages(chat_id, since=message_id - 1, include_deleted=True)
            message = next((m for m in found if m["message_id"] == message_id), None)
            if (
                message is not None
                and message["edit_count"] > after_edit_count
                and (predicate is None or predicate(message))
            ):
                return message
            if asyncio.get_running_loop().time() >= deadline:
                await self._fail(f"message {message_id} in chat {chat_id} not edited", chat_id)
            await asyncio.sleep(self.poll_interval)

    async def _fail(self, what: str, chat_id: int, thread_id: int | None = None) -> None:
        held = await self.messages(chat_id, thread_id)
        lines = "\n".join(_describe(m) for m in held[-15:]) or "  (no messages)"
        raise AssertionError(f"{what}; the chat holds:\n{lines}")
