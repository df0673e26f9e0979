"""The sandbox's demo clock, nightly backup schedule and emulated-chat snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.telegram.config import EmulatorConfig
from sandbox.telegram.models import User
from sandbox.telegram.people import Attachment, user_sends
from sandbox.telegram.runtime import Runtime
from sandbox.telegram.state import World
from sandbox.world import backups, panel, snapshot
from sandbox.world.clock import DemoClock


class FakeReal:
    """Real time for the demo clock, moved by hand (no waiting)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_the_demo_clock_runs_faster_without_jumping_when_the_speed_changes() -> None:
    real = FakeReal()
    clock = DemoClock(real=real)
    start = clock.now()
    real.t += 10
    clock.set_speed(60)
    assert clock.now() == start + timedelta(seconds=10)
    real.t += 10
    assert clock.now() == start + timedelta(seconds=610)
    clock.set_speed(1)
    real.t += 1
    assert clock.now() == start + timedelta(seconds=611)
    assert clock.offset_s == pytest.approx(590)  # 600 demo seconds in 10 real ones


def test_the_demo_clock_refuses_to_run_backwards() -> None:
    clock = DemoClock(real=FakeReal())
    with pytest.raises(ValueError):
        clock.set_speed(0.5)
    with pytest.raises(ValueError):
        clock.jump(timedelta(minutes=-1))


@pytest.mark.parametrize(
    ("now_utc", "night_utc"),
    [
        (datetime(2026, 11, 27, 0, 0, tzinfo=UTC), datetime(2026, 11, 26, 19, 0, tzinfo=UTC)),
        (datetime(2026, 11, 26, 18, 59, tzinfo=UTC), datetime(2026, 11, 25, 19, 0, tzinfo=UTC)),
    ],
)
def test_last_nightly_backup_is_two_oclock_jakarta_time(
    now_utc: datetime, night_utc: datetime
) -> None:
    assert backups.last_nightly(now_utc, "Asia/Jakarta") == night_utc


async def test_a_snapshot_brings_back_chats_topics_files_and_the_update_counter(
    tmp_path: Path,
) -> None:
    rt = Runtime(EmulatorConfig())
    rt.world.upsert_user(1001, first_name="Budi", language_code="id")
    group = rt.world.create_group(title="Support", is_forum=True, members=[1001], chat_id=-100)
    user_sends(rt, user_id=1001, chat_id=1001, text="halo")
    user_sends(rt, user_id=1001, chat_id=1001, photo=Attachment(b"\x89PNG\r\n\x1a\n", "a.png"))
    path = tmp_path / "telegram.json"
    snapshot.save(rt.world, path)

    fresh = World(User(id=rt.world.bot.id, first_name="bot", is_bot=True))
    assert snapshot.load(fresh, path)

    assert fresh.updates.next_update_id == rt.world.updates.next_update_id == 3
    restored = fresh.chats[1001].messages
    assert [m.text for m in restored.values()] == ["halo", None]
    photo = restored[2].photo
    assert photo is not None and photo.data == b"\x89PNG\r\n\x1a\n"
    assert fresh.chats[-100].is_forum and fresh.chats[-100].title == group.title
    assert fresh.chats[1001].private_user is fresh.users[1001]


async def test_a_payday_crowd_writes_to_the_bot_as_customers_do() -> None:
    from sandbox.world.payday import FIRST_ID, PaydayCrowd

    rt = Runtime(EmulatorConfig())
    crowd = PaydayCrowd(rt)
    crowd.start(count=12, spread=0.05)
    assert crowd.task is not None
    await crowd.task
    assert crowd.view() == {"running": False, "customers": 12, "written": 12}
    updates = rt.world.updates.items
    senders = {u["message"]["from"]["id"] for u in updates}
    assert senders == set(range(FIRST_ID, FIRST_ID + 12))
    assert all(u["message"]["chat"]["type"] == "private" for u in updates)
    english = [u for u in updates if u["message"]["from"].get("language_code") == "en"]
    assert len(english) == 3


@pytest.mark.parametrize(
    ("method", "path", "said"),
    [
        ("get", "/world/state", "no demo world in this run"),
        ("post", "/world/action", "no demo world in this run"),
        ("post", "/world/mail", "no sandbox mail in this run"),
    ],
)
async def test_the_panel_says_what_the_sandbox_started_without(
    method: str, path: str, said: str
) -> None:
    app = web.Application()
    panel.mount(app, None, {})
    async with TestClient(TestServer(app)) as client:
        response = await getattr(client, method)(path, json={"action": "gateway_fail"})
        assert response.status == 404
        assert await response.json() == {"error": said}
