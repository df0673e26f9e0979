"""An alert storm end to end: Alertmanager posts 12 groups at once, more than the admin chat's
budget carries within the group wait; one storm message arrives instead of 12; Rina opens a
group's details (sent to her private chat, with the group's own buttons), silences that group
for an hour from there, and acknowledges all from the storm message, which is edited to say so.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import aiohttp

from services import outbox
from tests.cast import ADMIN
from tests.e2e.conftest import FAST_DELIVERY, World, fast_rules
from tests.e2e.test_alert_story import T0, TOKEN, datas, e2e_clock, flush_at, start
from tests.waiting import eventually

__all__ = ["e2e_clock"]  # the frozen clock of the alert story


def am_alert(name: str, n: int) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "instance": f"web-{n}", "severity": "warning"},
        "annotations": {"summary": f"{name} <is> & high"},
        "startsAt": T0.isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": hashlib.sha256(f"{name}/{n}".encode()).hexdigest()[:16],
    }


async def test_a_storm_is_one_message_whose_buttons_act(world_unstarted: World) -> None:
    # Telegram's own group limit in the admin chat: 20 sends a minute, 10 within the group wait
    limits = {**FAST_DELIVERY["limits"], "group_per_minute": 20}
    world = await start(
        world_unstarted, fast_rules(alerts={"rules": []}, delivery={"limits": limits})
    )
    clock = world.frozen_clock
    body = {
        "version": "4",
        "groupKey": "{}",
        "status": "firing",
        "receiver": "quickcart",
        "alerts": [am_alert(f"Disk{k}", n) for k in range(12) for n in range(2)],
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.http_base + "/api/alertmanager", json=body, headers=headers) as r,
    ):
        assert r.status == 200, await r.text()
    await eventually(
        "the payload folded",
        lambda: world.pool.fetchval("SELECT count(*) = 12 FROM alert_groups"),
    )
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    storm = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: any(d.startswith("st:") for d in datas(m))
    )
    assert "12" in storm["text"] and "Disk11 ×2" in storm["text"], storm["text"]
    shown = await world.tg.messages(world.admin_chat_id)
    assert not [m for m in shown if any(d.startswith("al:") for d in datas(m))]  # none of 12

    # Rina never wrote to the bot in private: the details show in place, with a way back
    details = [d for d in datas(storm) if ":det:" in d]
    query = await world.tg.press(ADMIN, world.admin_chat_id, storm["message_id"], details[0])
    assert (await world.tg.callback_answer(query)).get("text")
    in_place = await world.tg.wait_for_edit(
        world.admin_chat_id, storm["message_id"], predicate=lambda m: "Firing:" in m["text"]
    )
    back = next(d for d in datas(in_place) if ":back:" in d)
    assert any(d.startswith("al:") for d in datas(in_place))
    query = await world.tg.press(ADMIN, world.admin_chat_id, storm["message_id"], back)
    await world.tg.callback_answer(query)
    storm = await world.tg.wait_for_edit(
        world.admin_chat_id,
        storm["message_id"],
        after_edit_count=in_place["edit_count"],
        predicate=lambda m: ":det:" in " ".join(datas(m)),
    )

    # Once a message reached her privately (a page, say), details go there
    await world.send(ADMIN, "/start")
    await outbox.enqueue(
        world.pool, outbox.OutboxMessage(chat_id=ADMIN, kind="text", payload={"text": "page"})
    )
    await eventually("the page sent", lambda: outbox.reached(world.pool, ADMIN))
    query = await world.tg.press(ADMIN, world.admin_chat_id, storm["message_id"], details[1])
    assert (await world.tg.callback_answer(query)).get("text")
    private = await world.tg.wait_for_message(
        ADMIN, predicate=lambda m: any(d.startswith("al:") for d in datas(m))
    )
    assert "<is> & high" in private["text"]
    silence = next(d for d in datas(private) if d.endswith(":s1"))
    query = await world.tg.press(ADMIN, ADMIN, private["message_id"], silence)
    assert (await world.tg.callback_answer(query)).get("text")
    group_id = int(silence.split(":")[1])
    assert await world.pool.fetchval(
        "SELECT silence_id IS NOT NULL FROM alert_groups WHERE id = $1", group_id
    )

    ack = next(d for d in datas(storm) if ":ack:" in d)
    query = await world.tg.press(ADMIN, world.admin_chat_id, storm["message_id"], ack)
    assert "12" in (await world.tg.callback_answer(query)).get("text", "")
    await world.tg.wait_for_edit(
        world.admin_chat_id, storm["message_id"], predicate=lambda m: "Rina" in m["text"]
    )
    audited = await world.pool.fetch(
        "SELECT action, target FROM audit_log WHERE actor_id = $1 AND allowed ORDER BY id", ADMIN
    )
    assert [a["action"] for a in audited] == [
        "alerts.view",
        "alerts.view",
        "alerts.view",
        "alerts.silence",
        "alerts.ack",
    ]
