"""One settings class, read from the environment or `.env`. Its names are the README's
(section "Settings"): operators and tests rely on them, so a name never changes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_WEBHOOK_SECRET = 32
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _url_password(url: str | None) -> str | None:
    """The password inside a mailbox URL (never logged, like every secret)."""
    if not url:
        return None
    password = urlsplit(url).password
    return unquote(password) if password else None


class SettingsError(Exception):
    """A missing or malformed setting, told in one line that names the variable."""


def _check_url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    BOT_TOKEN: str | None = None
    TELEGRAM_API_URL: str = "https://api.telegram.org"
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    DATA_DIR: Path = Path("./data")
    ADMIN_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    ADMIN_CHAT_ID: int | None = None
    SUPPORT_CHAT_ID: int | None = None
    # forum supergroup with one topic per incident (the incident rooms); unset: the admin chat
    INCIDENT_CHAT_ID: int | None = None
    SECURITY_CHAT_ID: int | None = None  # a receiver `security` of the alert routing tree
    TIMEZONE: str = "Asia/Jakarta"
    DEFAULT_LOCALE: Literal["id", "en"] = "id"
    HTTP_HOST: str = "127.0.0.1"
    HTTP_PORT: int = Field(default=8080, ge=0, le=65535)
    WEBHOOK_URL: str | None = None
    WEBHOOK_SECRET: str | None = None
    # where people reach this app's HTTP routes (the calendar links of /oncall calendar)
    PUBLIC_URL: str | None = None
    ALERTMANAGER_TOKEN: str | None = None
    PING_BASE_URL: str | None = None  # heartbeat ping URLs: <this>/ping/<uuid>
    MONITOR_DATABASE_URL: str | None = None
    MONITOR_REDIS_URL: str | None = None
    PAKASIR_BASE_URL: str | None = None
    PAKASIR_PROJECT: str | None = None
    PAKASIR_API_KEY: str | None = None
    PAKASIR_PROBE_ORDER_ID: str | None = None
    BACKUP_DIR: Path | None = None
    LOG_FILES: str | None = None
    RULES_FILE: Path | None = None
    # The e-mail channel (all three, or it is off): the support address, its IMAP mailbox
    # (imaps://user:pass@host/INBOX) and the outgoing server (smtps://user:pass@host:465).
    SUPPORT_EMAIL: str | None = None
    IMAP_URL: str | None = None
    SMTP_URL: str | None = None
    # CAs (PEM) trusted for the mail servers' TLS beside the system's: a company CA, or the
    # server's own self-signed certificate. Certificates and host names are always checked.
    EMAIL_CA_FILE: Path | None = None
    EMERGENCY_WEBHOOK_SECRET: str | None = None
    DOCS_DIR: Path | None = None
    FRAUD_RETRAIN_COMMAND: str | None = None
    LOG_FORMAT: Literal["text", "json"] = "text"
    LOG_LEVEL: str = "INFO"

    @field_validator("ADMIN_IDS", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("BOT_TOKEN")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        head, _, tail = value.partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("must look like 123456:ABC-DEF (digits, a colon, the secret)")
        return value

    @field_validator("DATABASE_URL", "MONITOR_DATABASE_URL")
    @classmethod
    def _pg_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("postgresql", "postgres"))

    @field_validator("REDIS_URL", "MONITOR_REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("redis", "rediss", "unix"))

    @field_validator(
        "TELEGRAM_API_URL", "WEBHOOK_URL", "PAKASIR_BASE_URL", "PING_BASE_URL", "PUBLIC_URL"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("http", "https"))

    @field_validator("IMAP_URL")
    @classmethod
    def _imap_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("imap", "imaps"))

    @field_validator("SMTP_URL")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("smtp", "smtps"))

    @field_validator("EMAIL_CA_FILE", mode="before")
    @classmethod
    def _ca_file(cls, value: object) -> object:
        if value is None or value == "":
            return None
        path = Path(str(value))
        if not path.is_file():
            raise ValueError(f"no such file: {path} (a PEM file of the CA certificates to trust)")
        return path

    @field_validator("SUPPORT_EMAIL")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value.strip()):
            raise ValueError("must be an e-mail address like support@quickcart.id")
        return value.strip().lower()

    @field_validator("WEBHOOK_SECRET")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _SECRET.fullmatch(value):
            raise ValueError(
                "may hold only A-Z, a-z, 0-9, _ and - (Telegram's rule), 1 to 256 characters"
            )
        if len(value) < MIN_WEBHOOK_SECRET:
            raise ValueError(
                f"is {len(value)} characters; use at least {MIN_WEBHOOK_SECRET} random ones "
                "(e.g. `openssl rand -hex 24`)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        # Without a secret anyone who finds the URL can post updates as any user (an admin).
        if self.WEBHOOK_URL and not self.WEBHOOK_SECRET:
            raise ValueError(
                "WEBHOOK_SECRET is required when WEBHOOK_URL is set "
                "(without it anyone can post updates to the webhook)"
            )
        return self

    def public_base_url(self) -> str:
        """PUBLIC_URL, else the origin of WEBHOOK_URL, else this host and port."""
        if self.PUBLIC_URL:
            return self.PUBLIC_URL.rstrip("/")
        if self.WEBHOOK_URL:
            from urllib.parse import urlsplit

            parts = urlsplit(self.WEBHOOK_URL)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://{self.HTTP_HOST}:{self.HTTP_PORT}"

    @field_validator("TIMEZONE")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        values = [
            self.BOT_TOKEN,
            self.WEBHOOK_SECRET,
            self.ALERTMANAGER_TOKEN,
            self.PAKASIR_API_KEY,
            *(_url_password(url) for url in (self.IMAP_URL, self.SMTP_URL)),
            self.EMERGENCY_WEBHOOK_SECRET,
        ]
        return [v for v in values if v]

    @property
    def ping_base_url(self) -> str:
        """Where jobs reach /ping/<uuid>: PING_BASE_URL, else the web app's own address."""
        if self.PING_BASE_URL:
            return self.PING_BASE_URL.rstrip("/")
        return f"http://{self.HTTP_HOST}:{self.HTTP_PORT}"

    def require(self, *names: str) -> None:
        """Stop with one clear line when a setting a command needs is missing."""
        for name in names:
            if getattr(self, name) in (None, "", []):
                raise SettingsError(f"{name} is required for this command but is not set")


def load_settings(**overrides: object) -> Settings:
    """Read the settings; turn pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}" if name else message) from None
