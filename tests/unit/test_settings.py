"""Settings: the names of DESIGN.md, and one clear line for a bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("BOT_TOKEN", "ADMIN_IDS", "HTTP_PORT", "DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_follow_the_design() -> None:
    settings = load_settings()
    assert settings.TELEGRAM_API_URL == "https://api.telegram.org"
    assert settings.TIMEZONE == "Asia/Jakarta"
    assert settings.DEFAULT_LOCALE == "id"
    assert (settings.HTTP_HOST, settings.HTTP_PORT) == ("127.0.0.1", 8080)
    assert settings.DATABASE_URL is None and settings.REDIS_URL is None


def test_admin_ids_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "101, 102,103")
    assert load_settings().ADMIN_IDS == [101, 102, 103]


def test_unix_socket_database_urls_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@/quickcart_ops?host=/tmp/pg")
    assert load_settings().DATABASE_URL == "postgresql://postgres@/quickcart_ops?host=/tmp/pg"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("HTTP_PORT", "eighty", "HTTP_PORT"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must start with postgresql://"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN: must look like"),
        ("ADMIN_IDS", "1,two", "ADMIN_IDS"),
        ("EMAIL_CA_FILE", "/nonexistent/ca.pem", "EMAIL_CA_FILE: no such file"),
    ],
)
def test_a_bad_value_is_told_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert said in str(caught.value)
    assert "\n" not in str(caught.value)


def _run(env: dict[str, str], cwd: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_run_without_a_token_prints_one_line_and_fails(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = _run(env, tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "quickcart-ops: BOT_TOKEN is required for this command but is not set"
    ]


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (None, "WEBHOOK_SECRET is required when WEBHOOK_URL is set"),
        ("short", "WEBHOOK_SECRET: is 5 characters; use at least 32"),
        ("x" * 31 + "!", "WEBHOOK_SECRET: may hold only A-Z, a-z, 0-9, _ and -"),
    ],
)
def test_webhook_mode_without_a_real_secret_refuses_to_start(
    tmp_path, secret: str | None, said: str
) -> None:
    """Without a secret aiogram's check passes every request: one POST made anyone an admin."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BOT_TOKEN": "123:abc",
        "ADMIN_CHAT_ID": "-1",
        "SUPPORT_CHAT_ID": "-2",
        "WEBHOOK_URL": "https://bot.example/telegram/webhook",
    }
    if secret is not None:
        env["WEBHOOK_SECRET"] = secret
    done = _run(env, tmp_path)
    assert done.returncode == 78
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quickcart-ops: ")
    assert said in lines[0]
