"""/health and /backupstatus through the real bot and the Telegram emulator."""

from __future__ import annotations

import time

from tests.e2e.conftest import ADMIN, BUDI, World
from tests.integration.checks.conftest import pakasir_targets


def _buttons(message: dict) -> list[dict]:
    return [
        b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
    ]


async def test_health_answers_within_five_seconds_while_the_monitored_postgres_hangs(
    world_unstarted: World, hanging_postgres, pakasir, redis_url, tmp_path
):
    world = world_unstarted
    world.settings = world.settings.model_copy(
        update={
            "MONITOR_DATABASE_URL": hanging_postgres.url,
            "MONITOR_REDIS_URL": redis_url,
            "BACKUP_DIR": tmp_path,
            "LOG_FILES": str(tmp_path / "*.log"),
            **{k.upper(): v for k, v in pakasir_targets(pakasir).items()},
        }
    )
    await world.start_bot()
    t0 = time.perf_counter()
    sent = await world.send(ADMIN, "/health", chat_id=world.admin_chat_id)
    card = await world.reply_to(world.admin_chat_id, after=sent["message_id"], timeout=10)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    assert "🔴 Basis data: Tidak ada jawaban dalam 4.0 s: target macet." in card["text"]
    assert {b["callback_data"] for b in _buttons(card)} >= {"hc:database", "hc:payment", "hc:all"}

    query = await world.tg.press(ADMIN, world.admin_chat_id, card["message_id"], "hc:payment")
    await world.tg.callback_answer(query)
    edited = await world.tg.wait_for_edit(world.admin_chat_id, card["message_id"], timeout=10)
    # the gateway answers; the payment statistics need the hung database, so it is critical
    assert edited["text"].startswith("🔴 Pembayaran: Kritis")
    assert "Pakasir menjawab dalam" in edited["text"]
    assert "Basis data tidak dapat dihubungi: timeout" in edited["text"]


async def test_customers_cannot_see_health_and_the_refusal_is_audited(world_unstarted: World):
    world = world_unstarted
    await world.start_bot()
    sent = await world.send(BUDI, "/health")
    reply = await world.reply_to(BUDI, after=sent["message_id"])
    assert reply["text"] == "Hanya staf QuickCart yang dapat melihat pemeriksaan kesehatan."
    refused = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log "
        "WHERE action = 'health.view' AND NOT allowed AND actor_id = $1",
        BUDI,
    )
    assert refused == 1
