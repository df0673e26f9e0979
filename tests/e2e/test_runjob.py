"""/runjob as an admin uses it: without a name it lists the jobs; a job run by hand posts its
result in the admin chat, as the reply promises, even when all is well; a database maintenance
with nothing to do says so instead of "0 of 0 steps done"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jobs.registry import JOBS
from sandbox.telegram.client import Json
from tests.cast import ADMIN
from tests.e2e.conftest import World

RESULT_ICONS = ("✅", "⚠️", "❌", "⏭")
TITLES = {
    "payment_check": ("Payment system check", "Pemeriksaan sistem pembayaran"),
    "database_maintenance": ("Database maintenance", "Pemeliharaan basis data"),
}


def is_result_of(job: str) -> Any:
    def match(message: Json) -> bool:
        text = message.get("text") or ""
        return text.startswith(RESULT_ICONS) and any(t in text for t in TITLES[job])

    return match


async def ask(world: World, text: str) -> Json:
    sent = await world.send(ADMIN, text, chat_id=world.admin_chat_id)
    reply: Json = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    return reply


async def test_runjob_without_a_name_lists_every_job(world: World) -> None:
    reply = await ask(world, "/runjob")

    text = reply["text"]
    assert "Unknown job" not in text and "tidak dikenal" not in text, text
    assert "/runjob" in text  # how to run one
    lines = text.splitlines()
    for name in JOBS:  # one line per job, with its name
        assert any(line.startswith(f"{name}: ") for line in lines), (name, text)


async def test_a_job_run_by_hand_posts_its_result_in_the_admin_chat(world: World) -> None:
    reply = await ask(world, "/runjob payment_check")
    assert any(t in reply["text"] for t in TITLES["payment_check"])

    result = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=reply["message_id"],
        predicate=is_result_of("payment_check"),
    )
    assert result["text"].startswith("✅")  # nothing configured to check: unknown, not a failure


async def test_database_maintenance_with_nothing_to_do_says_so(
    world_unstarted: World, empty_db_url: str
) -> None:
    world = world_unstarted
    world.settings = world.settings.model_copy(update={"MONITOR_DATABASE_URL": empty_db_url})
    await world.start_bot()
    question = await ask(world, "/runjob database_maintenance")
    buttons = [
        b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row
    ]
    query = await world.tg.press(
        ADMIN, world.admin_chat_id, question["message_id"], "mj:run:database_maintenance"
    )
    await world.tg.callback_answer(query)

    result = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=question["message_id"],
        predicate=is_result_of("database_maintenance"),
    )
    assert "mj:run:database_maintenance" in buttons
    text = result["text"]
    assert "0 of 0" not in text and "0 dari 0" not in text, text
    assert "VACUUM" in text and "REINDEX" in text, text


async def test_report_weekly_covers_the_last_seven_days_up_to_now(world: World) -> None:
    sent = await world.send(ADMIN, "/report weekly", chat_id=world.admin_chat_id)
    pattern = re.compile(r"(\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2}) \d{2}:\d{2}")
    headline = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=sent["message_id"],
        predicate=lambda m: bool(pattern.search(m.get("text") or "")),
    )

    match = pattern.search(headline["text"])
    assert match is not None
    today = world.clock.now().astimezone(ZoneInfo(world.settings.TIMEZONE)).date()
    assert match.group(2) == today.isoformat()
    assert match.group(1) == (today - timedelta(days=6)).isoformat()
