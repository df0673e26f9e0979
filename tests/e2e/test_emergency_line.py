"""The emergency line end to end: Rina types /sos in the admin chat, and a voice/SMS provider
posts a signed call to /api/emergency; each pages all five levels at once (Sari, Dewi, Tono,
Maya and Agus each get a private page with buttons). An unsigned or forged call gets 401, is
audited and pages nobody."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from services import roster
from services.escalation import hotline
from services.users import Role
from tests.cast import ADMIN
from tests.e2e.buttons import datas
from tests.e2e.conftest import World

SECRET = "s3cret-of-the-emergency-line"
LEVELS = [
    (2001, "Sari", Role.SUPPORT_ENGINEER),
    (2002, "Dewi", Role.SENIOR_ENGINEER),
    (2003, "Tono", Role.TECH_LEAD),
    (2004, "Maya", Role.ENGINEERING_MANAGER),
    (2005, "Agus", Role.CTO),
]


@pytest.fixture
async def line(world_unstarted: World) -> World:
    world = world_unstarted
    world.settings = world.settings.model_copy(update={"EMERGENCY_WEBHOOK_SECRET": SECRET})
    await world.start_bot()
    for user_id, name, role in LEVELS:
        await world.tg.create_user(user_id, first_name=name, language_code="id")
        sent = await world.send(user_id, "/start")
        await world.reply_to(user_id, after=sent["message_id"])
        await roster.add_member(
            world.pool, user_id=user_id, display_name=name, roles=[role], added_by=ADMIN
        )
    return world


async def every_level_paged(world: World, number_id: int) -> None:
    for user_id, name, _role in LEVELS:
        page = await world.tg.wait_for_message(
            user_id, predicate=lambda m: f"inc:{number_id}:ack:1" in datas(m)
        )
        assert "P0" in page["text"] and "SOS" in page["text"], (name, page["text"])


async def test_sos_in_the_admin_chat_pages_every_level_at_once(line: World) -> None:
    sent = await line.send(ADMIN, "/sos Checkout mati total <semua>", chat_id=line.admin_chat_id)
    answer = await line.tg.wait_for_message(
        line.admin_chat_id,
        after_message_id=sent["message_id"],
        predicate=lambda m: "🆘" in m["text"],
    )
    assert "QC-000001" in answer["text"] and "5 level" in answer["text"], answer["text"]
    await every_level_paged(line, 1)
    incident = await line.pool.fetchrow("SELECT priority, source, level FROM incidents")
    assert dict(incident) == {"priority": "P0", "source": "emergency", "level": 1}
    call = await line.pool.fetchrow("SELECT source, caller_id, message FROM emergency_calls")
    assert dict(call) == {
        "source": "sos",
        "caller_id": ADMIN,
        "message": "Checkout mati total <semua>",
    }


async def post(world: World, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    url = f"{world.http_base}/api/emergency"
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


async def test_a_signed_provider_call_pages_every_level_and_a_retry_is_the_same_call(
    line: World,
) -> None:
    body = json.dumps(
        {
            "call_id": "call-77",
            "caller": "+628111222333",
            "name": "Pak Joko",
            "message": "Server down",
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        hotline.SIGNATURE_HEADER: hotline.sign_json(SECRET, body),
    }
    status, answer = await post(line, body, headers)
    assert status == 200, answer
    assert answer == {
        "status": "ok",
        "ticket": "QC-000001",
        "paged": 5,
        "levels": 5,
        "duplicate": False,
    }
    await every_level_paged(line, 1)
    status, again = await post(line, body, headers)
    assert (status, again["ticket"], again["duplicate"]) == (200, "QC-000001", True)
    assert await line.pool.fetchval("SELECT count(*) FROM emergency_calls") == 1


async def test_a_twilio_call_is_checked_the_way_twilio_signs(line: World) -> None:
    params = [("CallSid", "CA9f"), ("From", "+628999"), ("Body", "DB hilang"), ("To", "+62800")]
    body = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in params).encode()
    url = f"{line.http_base}/api/emergency"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        hotline.TWILIO_HEADER: hotline.sign_twilio(SECRET, url, params),
    }
    status, answer = await post(line, body, headers)
    assert status == 200 and "<Say>" in answer, answer
    await every_level_paged(line, 1)
    forged = {**headers, hotline.TWILIO_HEADER: hotline.sign_twilio("wrong", url, params)}
    status, _ = await post(line, body.replace(b"CA9f", b"CA10"), forged)
    assert status == 401


async def test_an_unsigned_or_forged_call_gets_401_is_audited_and_pages_nobody(
    line: World,
) -> None:
    body = json.dumps({"caller": "+62", "message": "prank"}).encode()
    plain = {"Content-Type": "application/json"}
    assert (await post(line, body, plain))[0] == 401
    forged = {**plain, hotline.SIGNATURE_HEADER: hotline.sign_json("guess", body)}
    assert (await post(line, body, forged))[0] == 401
    tampered = {**plain, hotline.SIGNATURE_HEADER: hotline.sign_json(SECRET, body)}
    assert (await post(line, body + b" ", tampered))[0] == 401
    refusals = await line.pool.fetch(
        "SELECT details->>'reason' AS reason FROM audit_log"
        " WHERE action = 'emergency.webhook' AND NOT allowed"
    )
    assert [r["reason"] for r in refusals] == ["missing or wrong signature"] * 3
    assert await line.pool.fetchval("SELECT count(*) FROM emergency_calls") == 0
    assert await line.pool.fetchval("SELECT count(*) FROM incidents") == 0
    # Signed, but not a call: told why, stored nothing.
    junk = b'{"message": "no caller"}'
    signed = {**plain, hotline.SIGNATURE_HEADER: hotline.sign_json(SECRET, junk)}
    status, answer = await post(line, junk, signed)
    assert status == 400 and "caller" in answer["error"], answer
