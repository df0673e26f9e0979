"""The same page in Firefox: Debian's firefox-esr driven through Marionette, the remote protocol
built into Firefox (Playwright's Firefox is a patched build that cannot be downloaded here, and
geckodriver is not packaged; marionette-driver from PyPI talks to Firefox directly).

Skipped, with the reason printed, when /usr/bin/firefox-esr is missing."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from tests.net import free_port

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
pytestmark = pytest.mark.skipif(
    FIREFOX is None, reason="firefox-esr is missing: install Debian's firefox-esr to run this"
)


def _wait_for(client: object, script: str, timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = client.execute_script(script)  # type: ignore[attr-defined]
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Firefox: not true within {timeout}s: {script}")
        time.sleep(0.1)


def alice_chooses_english_in_firefox(base_url: str) -> str:
    """Runs in a thread (Marionette's client is synchronous); returns the bot's last words."""
    from marionette_driver.marionette import Marionette

    assert FIREFOX is not None
    profile = Path(tempfile.mkdtemp(prefix="qc-firefox-"))
    port = free_port()
    (profile / "user.js").write_text(
        f'user_pref("marionette.port", {port});\n'
        'user_pref("browser.shell.checkDefaultBrowser", false);\n'
        'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
        'user_pref("app.update.disabledForTesting", true);\n'
    )
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = Marionette(host="127.0.0.1", port=port, startup_timeout=60)
        client.start_session()
        client.navigate(f"{base_url}/?as={cast.ALICE.id}")
        _wait_for(
            client,
            "return document.body.dataset.ready === 'true' && "
            "document.querySelector('#connection.live') !== null;",
        )
        client.execute_script(
            """
            const input = document.querySelector('#composer-input');
            input.value = '/start';
            input.dispatchEvent(new Event('input', {bubbles: true}));
            input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
            """
        )
        _wait_for(
            client,
            "return [...document.querySelectorAll('#messages .kb-button')]"
            ".some(b => b.textContent.includes('English'));",
        )
        client.execute_script(
            "[...document.querySelectorAll('#messages .kb-button')]"
            ".filter(b => b.textContent.includes('English')).pop().click();"
        )
        said = _wait_for(
            client,
            "const all = [...document.querySelectorAll('#messages .message.from-bot')];"
            "const last = all.pop(); return last && last.textContent.includes('From now on') "
            "&& last.textContent;",
        )
        client.delete_session()
        return str(said)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


async def test_the_page_works_in_firefox_too(sandbox: Sandbox) -> None:
    said = await asyncio.to_thread(alice_chooses_english_in_firefox, sandbox.base_url)
    assert "From now on I will write to you in English." in said
