"""Retry policy and the reading of Telegram's errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from services.delivery import errors
from services.delivery.config import DeliveryConfig
from services.delivery.policy import backoff_delay, retry_after_delay, too_old

CONFIG = DeliveryConfig(backoff_base=1.0, backoff_cap=60.0, max_age=3600.0)


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [
        (1, 0.5, 1.0),
        (2, 1.0, 2.0),
        (3, 2.0, 4.0),
        (6, 16.0, 32.0),
        (7, 30.0, 60.0),
        (50, 30.0, 60.0),
    ],
)
def test_backoff_doubles_with_jitter_and_stops_at_the_cap(
    attempts: int, low: float, high: float
) -> None:
    rand = random.Random(attempts)
    delays = [backoff_delay(attempts, CONFIG, rand) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert max(delays) - min(delays) > (high - low) * 0.5, "jitter spreads the retries"


def test_a_row_is_given_up_on_only_after_max_age() -> None:
    created = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert not too_old(created, created + timedelta(minutes=59), CONFIG)
    assert too_old(created, created + timedelta(minutes=60), CONFIG)


def test_a_bogus_retry_after_is_bounded() -> None:
    assert retry_after_delay(7, CONFIG) == 7
    assert retry_after_delay(10**9, CONFIG) == CONFIG.max_retry_after


@pytest.mark.parametrize(
    ("status", "description", "expected", "reason"),
    [
        (403, "Forbidden: bot was blocked by the user", errors.PermanentError, "forbidden"),
        (403, "Forbidden: user is deactivated", errors.PermanentError, "forbidden"),
        (400, "Bad Request: chat not found", errors.PermanentError, "chat_not_found"),
        (400, "Bad Request: message thread not found", errors.PermanentError, "thread_not_found"),
        (400, "Bad Request: TOPIC_ID_INVALID", errors.PermanentError, "thread_not_found"),
        (400, "Bad Request: message to edit not found", errors.PermanentError, "message_not_found"),
        (
            400,
            "Bad Request: can't parse entities: Unsupported start tag",
            errors.PermanentError,
            "bad_markup",
        ),
        (
            400,
            "Bad Request: message is not modified: specified new message content",
            errors.NotModified,
            None,
        ),
        (400, "Bad Request: something new", errors.PermanentError, "bad_request"),
        (500, "Internal Server Error", errors.TransientError, None),
        (502, "Bad Gateway", errors.TransientError, None),
        (401, "Unauthorized", errors.TransientError, None),
    ],
)
def test_telegram_errors_are_classified(
    status: int, description: str, expected: type[Exception], reason: str | None
) -> None:
    error = errors.classify(status, description)
    assert type(error) is expected
    if reason is not None:
        assert isinstance(error, errors.PermanentError) and error.reason == reason


def test_429_and_migration_are_read_from_the_response_parameters() -> None:
    retry = errors.classify(429, "Too Many Requests: retry after 7", retry_after=7)
    assert isinstance(retry, errors.RetryAfter) and retry.seconds == 7
    moved = errors.classify(400, "group upgraded", migrate_to_chat_id=-1009)
    assert isinstance(moved, errors.ChatMigrated) and moved.new_chat_id == -1009
