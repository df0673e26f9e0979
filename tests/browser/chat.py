"""What a person does on the sandbox page, in Playwright terms (the page object)."""

from __future__ import annotations

from typing import Any

from bot.sandbox_cmd import Sandbox


async def open_as(page: Any, box: Sandbox, user_id: int) -> None:
    await page.goto(f"{box.base_url}/?as={user_id}")
    await page.wait_for_selector("body[data-ready=true]")
    # attached, not visible: on a phone the status sits in the list of chats, out of sight
    await page.wait_for_selector("#connection.live", state="attached")


async def open_chat(page: Any, chat_id: int, thread_id: int | None = None) -> None:
    thread = "" if thread_id is None else str(thread_id)
    await page.click(f'.chat-item[data-chat="{chat_id}"][data-thread="{thread}"]')


async def send(page: Any, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.press("#composer-input", "Enter")


def bot_says(page: Any, text: str) -> Any:
    """The bot's last message in the open conversation that contains `text`."""
    return page.locator("#messages .message.from-bot").filter(has_text=text).last


async def press(page: Any, label: str) -> None:
    await page.locator("#messages .kb-button").filter(has_text=label).last.click()


async def become(page: Any, user_id: int) -> None:
    await page.select_option("#you-are", str(user_id))
