"""The e-mail channel in the browser: the sandbox runs its own mail servers (sandbox/mail), so
Sari (support) can watch a customer's e-mail become a ticket. The panel's form sends Budi's
mail to the support address; the bot reads it over IMAP, opens QC-000001 on the e-mail channel
(its topic appears in the support forum) and mails the acknowledgement, which the panel lists;
Budi's reply to it, from the panel, lands in the same ticket's topic."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from tests.browser.chat import open_as


async def test_an_email_written_in_the_panel_becomes_a_ticket_and_is_answered(
    page: Any, sandbox: Sandbox
) -> None:
    assert sandbox.mail is not None
    await open_as(page, sandbox, cast.SARI.id)
    send = page.locator("#mail-send")
    if await page.locator("#world").is_hidden():  # closed on a narrow page, or by choice
        await page.click("#world-toggle")
    await expect(send).to_be_visible()  # the panel's first refresh has drawn it
    await page.fill("#mail-subject", "Pesanan <b>belum</b> sampai")
    await page.fill("#mail-text", "Pesanan saya belum sampai sudah 5 hari. Tolong dicek.")
    await send.click()

    answers = page.locator("#mail-sent .world-mail")
    await expect(answers.first).to_contain_text(
        "To budi.santoso@gmail.com · Re: [QC-000001] Pesanan <b>belum</b> sampai", timeout=30_000
    )
    await expect(page.locator("#mail-inbox li").first).to_contain_text("✓")  # the bot read it
    topic = page.locator(".chat-item.topic").filter(has_text="QC-000001")
    await expect(topic).to_be_visible(timeout=15_000)

    await answers.first.locator("summary").click()
    await expect(answers.first.locator(".world-mail-text")).to_contain_text("QC-000001")
    await answers.first.get_by_role("button", name="Reply as the customer").click()
    await page.fill("#mail-text", "Nomor pesanan ORD-20261102-7F3K9Q")
    await send.click()
    await expect(page.locator("#mail-inbox li")).to_have_count(2)
    await expect(page.locator("#mail-inbox li").first).to_contain_text("✓", timeout=30_000)

    await topic.click()
    await expect(page.locator("#messages")).to_contain_text("ORD-20261102-7F3K9Q", timeout=15_000)
    assert len(sandbox.mail.store.sent) == 1  # a reply to a ticket is not acknowledged again
