"""The sandbox's chats: the admin chat, the support forum and the incidents forum that holds
the incident rooms (INCIDENT_CHAT_ID), the staff in each; one an older snapshot lacks is added."""

from __future__ import annotations

from bot.sandbox_cast import bot_settings, populate
from bot.sandbox_cmd import Sandbox
from bot.settings import Settings
from sandbox.telegram.config import EmulatorConfig
from sandbox.telegram.runtime import Runtime
from sandbox.world import cast


def test_the_sandbox_has_an_incidents_forum_with_the_staff_in_it() -> None:
    runtime = Runtime(EmulatorConfig())
    populate(runtime)
    chats = runtime.world.chats
    incidents = chats[cast.INCIDENT_CHAT_ID]
    assert incidents.title == cast.INCIDENT_CHAT_TITLE == "QuickCart Incidents"
    assert incidents.type == "supergroup" and incidents.is_forum
    assert {m.id for m in cast.STAFF} <= incidents.members
    assert runtime.world.bot.id in incidents.admins  # it creates, pins and closes the rooms
    # the admins administer it; the others are members (a closed room is the admins' to write)
    assert incidents.admins - {runtime.world.bot.id} == set(cast.ADMIN_IDS)
    assert not chats[cast.ADMIN_CHAT_ID].is_forum and chats[cast.SUPPORT_CHAT_ID].is_forum
    assert cast.INCIDENT_CHAT_ID not in (cast.ADMIN_CHAT_ID, cast.SUPPORT_CHAT_ID)


def test_a_snapshot_from_before_the_incidents_forum_gets_it() -> None:
    runtime = Runtime(EmulatorConfig())
    populate(runtime)
    del runtime.world.chats[cast.INCIDENT_CHAT_ID]
    support = runtime.world.chats[cast.SUPPORT_CHAT_ID]
    populate(runtime)  # as a restart over an older DATA_DIR does
    assert runtime.world.chats[cast.SUPPORT_CHAT_ID] is support  # kept as it was
    assert runtime.world.chats[cast.INCIDENT_CHAT_ID].is_forum


def test_the_bot_in_the_sandbox_opens_its_rooms_there() -> None:
    box = Sandbox(settings=Settings(_env_file=None), port=0)  # type: ignore[call-arg]
    settings = bot_settings(box, EmulatorConfig(), "postgresql://x/y", "redis://x")
    assert settings.INCIDENT_CHAT_ID == cast.INCIDENT_CHAT_ID
    assert (settings.ADMIN_CHAT_ID, settings.SUPPORT_CHAT_ID) == (
        cast.ADMIN_CHAT_ID, cast.SUPPORT_CHAT_ID
    )  # fmt: skip
