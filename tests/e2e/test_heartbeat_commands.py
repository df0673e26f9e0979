"""Heartbeats from the admin chat: Rina adds one (and gets its secret ping URL), a job pings it,
/heartbeats lists it with its last ping and duration, she pauses, resumes and removes it (its
URL then answers 404). Arguments full of markup, 5,000 characters and a bad cron get a polite
answer; a customer is refused and the refusal is audited."""

from __future__ import annotations

import re

import aiohttp

from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World
from tests.e2e.test_hostile_input import HOSTILE

ONE_WORD = "<b>&amp;😀ñ" + "x<y&z>" * 820  # markup, unicode, > 5,000 characters, no space
URL = re.compile(r"http://[^\s<]+/ping/[0-9a-f-]{36}")


async def ask(world: World, user_id: int, chat_id: int, text: str) -> str:
    sent = await world.send(user_id, text, chat_id=chat_id)
    reply = await world.reply_to(chat_id, after=sent["message_id"])
    return str(reply["text"])


async def test_add_ping_list_pause_resume_remove(world: World) -> None:
    chat = world.admin_chat_id
    answer = await ask(world, ADMIN, chat, '/heartbeat add fraud-retrain "0 3 1 * *" 2h')
    assert "fraud-retrain" in answer and "cron 0 3 1 * *" in answer, answer
    found = URL.search(answer)
    assert found, answer
    # the URL names the bot's own address unless PING_BASE_URL says otherwise: reach it here
    key = found.group().rsplit("/", 1)[1]
    ping = f"{world.http_base}/ping/{key}"
    async with aiohttp.ClientSession() as http:
        async with http.get(ping + "/start") as response:
            assert response.status == 200
        async with http.post(ping, data=b"retrained on 120 cases") as response:
            assert (response.status, await response.text()) == (200, "OK")

        listing = await ask(world, ADMIN, chat, "/heartbeats")
        assert "🟢" in listing and "fraud-retrain" in listing, listing
        assert "Ping terakhir" in listing, listing

        detail = await ask(world, ADMIN, chat, "/heartbeat fraud-retrain")
        assert "retrained on 120 cases" in detail and key in detail, detail

        assert "di-pause" in await ask(world, ADMIN, chat, "/heartbeat pause fraud-retrain")
        assert "⏸" in await ask(world, ADMIN, chat, "/heartbeats")
        assert "di-resume" in await ask(world, ADMIN, chat, "/heartbeat resume fraud-retrain")
        assert "dihapus" in await ask(world, ADMIN, chat, "/heartbeat remove fraud-retrain")
        async with http.get(ping) as response:
            assert response.status == 404
    assert "Belum ada heartbeat" in await ask(world, ADMIN, chat, "/heartbeats")
    audited = await world.pool.fetch(
        "SELECT target FROM audit_log WHERE action = 'heartbeats.manage' AND allowed ORDER BY id"
    )
    assert [r["target"] for r in audited] == [
        "add fraud-retrain",
        "pause fraud-retrain",
        "resume fraud-retrain",
        "remove fraud-retrain",
    ]


async def test_bad_arguments_get_a_polite_answer(world: World) -> None:
    chat = world.admin_chat_id
    await ask(world, ADMIN, chat, "/heartbeat add backup 1d 1h")
    cases = {
        f"/heartbeat add {ONE_WORD} 1d 1h": "tidak bisa jadi nama heartbeat",
        "/heartbeat add backup 1d 1h": "Sudah ada heartbeat bernama backup",
        "/heartbeat add other soon 1h": "bukan periode",
        "/heartbeat add other 99 2 * * * 1h": "bukan ekspresi cron",
        f"/heartbeat add {HOSTILE}": "Cara pakai",
        f"/heartbeat {HOSTILE}": "Tidak ada heartbeat bernama",
        "/heartbeat pause nothing-here": "Tidak ada heartbeat bernama nothing-here",
        "/heartbeat remove": "Cara pakai",
    }
    for text, expected in cases.items():
        answer = await ask(world, ADMIN, chat, text)
        assert expected in answer, (text[:40], answer)
        assert len(answer) < 1000


async def test_a_customer_may_not_add_a_heartbeat(world: World) -> None:
    answer = await ask(world, BUDI, BUDI, "/heartbeat add sneaky 1m 1m")
    assert "tidak diizinkan" in answer, answer
    assert await world.pool.fetchval("SELECT count(*) FROM heartbeats") == 0
    refused = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE actor_id = $1 AND NOT allowed", BUDI
    )
    assert refused == 1
