"""Poison payloads on POST /api/alertmanager: bodies that can never be stored are refused with a
4xx and the reason, never a 5xx, which Alertmanager would retry for ever. A 503 is kept for our
own store being down."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.integration.alerts.test_webhook import am_alert, auth, nothing_stored, payload, receiver

DEPTH = 200_000


async def _post_raw(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = {**auth(), "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.json()


async def test_json_nested_200000_deep_is_400_not_500(pool: asyncpg.Pool) -> None:
    body = b'{"version": "4", "alerts": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    async with receiver(pool) as url:
        status, answer = await _post_raw(url, body)
    assert status == 400, answer
    assert "nested too deeply" in answer["error"]
    assert await nothing_stored(pool)


@pytest.mark.parametrize(
    ("where", "poison", "reason"),
    [
        ("label", "db-\u0000-1", "NUL"),
        ("label", "db-\ud800-1", "lone surrogate"),
        ("label name", "\ud800", "lone surrogate"),
        ("annotation", "disk \u0000 full", "NUL"),
    ],
)
async def test_text_postgresql_cannot_hold_is_400_with_the_field(
    pool: asyncpg.Pool, where: str, poison: str, reason: str
) -> None:
    alert = am_alert(1)
    if where == "label":
        alert["labels"]["instance"] = poison
    elif where == "label name":
        alert["labels"][poison] = "x"
    else:
        alert["annotations"]["summary"] = poison
    body = json.dumps(payload([am_alert(2), alert])).encode()  # ensure_ascii: "\ud800" escaped
    async with receiver(pool) as url:
        status, answer = await _post_raw(url, body)
    assert status == 400, answer  # never 5xx: Alertmanager would retry it for ever
    assert reason in answer["error"] and "alerts.1." in answer["error"], answer
    assert await nothing_stored(pool)  # nothing stored half


async def test_data_postgresql_refuses_is_400_not_retry_later(pool: asyncpg.Pool) -> None:
    """An alertname too big for its index (PostgreSQL's own refusal) is a property of the
    payload: the same body would be refused again."""
    import secrets

    huge = secrets.token_hex(100_000)  # incompressible, far over a btree row's 2704 bytes
    async with receiver(pool) as url:
        status, answer = await _post_raw(
            url, json.dumps(payload([am_alert(1, alertname=huge)])).encode()
        )
    assert status == 400, answer
    assert "cannot be stored" in answer["error"]
    assert await nothing_stored(pool)


async def test_a_store_that_is_down_is_still_503(pool: asyncpg.Pool) -> None:
    await pool.close()  # our own store gone: that one Alertmanager should retry
    async with receiver(pool) as url:
        status, answer = await _post_raw(url, json.dumps(payload([am_alert(1)])).encode())
    assert status == 503, answer
