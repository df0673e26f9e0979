"""Browser tests: the sandbox page in Debian's headless Chromium, driven by Playwright.

The sandbox runs in-process (`bot.sandbox_cmd.running`) on the session's PostgreSQL and
Redis: the bot's database is a fresh migrated one, the demo QuickCart is a fresh empty one.
No browser is downloaded: Playwright is pointed at /usr/bin/chromium, and every test here is
skipped, with the reason printed, when that binary is missing. A failing test leaves a
screenshot of the page in tests/browser/artifacts/.

Two marks change the defaults for one test: `@pytest.mark.sandbox_settings(TIMEZONE=...)` adds
settings the sandbox starts with, `@pytest.mark.browser_context(viewport=..., timezone_id=...)`
adds options of the browser context (Playwright's `new_context`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest

from bot.monitor import MonitorConfig
from bot.sandbox_cmd import Sandbox
from tests.sandboxes import sandbox_on

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SKIP_REASON = f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_settings(**settings): settings of the sandbox")
    config.addinivalue_line("markers", "browser_context(**options): the browser context's options")


def marked(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    mark = request.node.get_closest_marker(name)
    return dict(mark.kwargs) if mark is not None else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    if mine and not CHROMIUM.exists():
        print(f"\nbrowser tests skipped: {SKIP_REASON}", file=sys.stderr)
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def sandbox(
    db_url: str, empty_db_url: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Sandbox]:
    # Probes every 2 s, rules evaluated every second: a break shows within seconds.
    monitor = MonitorConfig(probe_interval=2.0, tick_interval=1.0)
    settings = marked(request, "sandbox_settings")
    async with sandbox_on(
        db_url, empty_db_url, redis_url, tmp_path / "data", monitor, **settings
    ) as box:
        yield box


@pytest.fixture
async def page(
    browser: Any, sandbox: Sandbox, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    options = {"viewport": {"width": 1360, "height": 860}, **marked(request, "browser_context")}
    context = await browser.new_context(**options)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
