"""Who and what the sandbox starts with: the cast as emulated users and their chats, the staff
roster and a weekly on-call rotation, and the settings and rules the sandbox's bot runs with.

`bot/sandbox_cmd.py` runs the sandbox with these; with it, the only modules of the bot that
import `sandbox`.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.settings import Settings
from sandbox.telegram.config import EmulatorConfig
from sandbox.telegram.runtime import Runtime
from sandbox.world import DemoWorld, cast, demo_db
from services import roster, users
from services.oncall import actions as oncall_actions
from services.oncall import store as oncall_store
from services.oncall import views as oncall_views
from services.oncall.model import LayerSpec, RotationSpec
from services.rules import Rules
from services.storage.db import connect
from services.users import Role

if TYPE_CHECKING:
    from bot.sandbox_cmd import Sandbox

MONITOR_REDIS_DB = 1  # QuickCart's "own" Redis: another logical database of the embedded one


def populate(runtime: Runtime) -> None:
    """The cast as emulated users, the admin chat, the support forum and the incidents forum
    (each kept if restored; one missing from an older snapshot is added)."""
    world = runtime.world
    for member in cast.CAST:
        world.upsert_user(
            member.id,
            first_name=member.first_name,
            username=member.username,
            language_code=member.language,
        )
    staff_ids = [m.id for m in cast.STAFF]
    for chat_id, title, forum, admins in (
        (cast.ADMIN_CHAT_ID, cast.ADMIN_CHAT_TITLE, False, staff_ids),
        (cast.SUPPORT_CHAT_ID, cast.SUPPORT_CHAT_TITLE, True, staff_ids),
        (cast.INCIDENT_CHAT_ID, cast.INCIDENT_CHAT_TITLE, True, list(cast.ADMIN_IDS)),
    ):
        if chat_id not in world.chats:
            world.create_group(
                title=title,
                type="supergroup",
                is_forum=forum,
                members=staff_ids,
                admins=admins,
                chat_id=chat_id,
            )


async def seed_roster(database_url: str) -> None:
    """Every staff member of the cast on the roster, in their language, holding their slots.

    The customers are left for the bot to meet: their first /start asks for a language."""
    conn = await connect(database_url)
    try:
        for member in cast.STAFF:
            await users.touch(
                conn, member.id, first_name=member.first_name, username=member.username
            )
            current = await users.get(conn, member.id)
            if current is not None and current.language is None:
                await users.set_language(conn, member.id, member.language)
        for member in cast.STAFF:
            roles = [Role(r) for r in member.roles]
            await roster.add_member(
                conn,
                user_id=member.id,
                display_name=member.first_name,  # the role is shown from the roles, translated
                roles=roles,
                added_by=None,
            )
            for role in roles:
                holder = await conn.fetchval(
                    "SELECT user_id FROM oncall_slots WHERE role = $1", role.value
                )
                if holder is None:  # the first of the cast with a role holds its slot
                    await roster.set_on_call(conn, role, member.id, set_by=None)
    finally:
        await conn.close()


async def seed_rotation(database_url: str, now: datetime, timezone: str) -> None:
    """The cast's weekly rotation, once: the first person named holds the week running now."""
    conn = await connect(database_url)
    try:
        if await oncall_store.versions(conn, cast.ROTATION_ROLE):
            return
        layer = LayerSpec.model_validate(cast.ROTATION_LAYER)
        anchored = oncall_actions.anchored(layer, now, ZoneInfo(timezone))
        await oncall_store.save_rotation(
            conn,
            cast.ROTATION_ROLE,
            RotationSpec(layers=[anchored]),
            effective_from=now - timedelta(weeks=1),
            by=None,
        )
    finally:
        await conn.close()


def handoff_finder(
    database_url: str, timezone: str
) -> Callable[[datetime], Awaitable[datetime | None]]:
    """What the world panel asks to jump the demo clock to the next on-call handoff."""
    zone = ZoneInfo(timezone)

    async def find(after: datetime) -> datetime | None:
        conn = await connect(database_url)
        try:
            return await oncall_views.next_handoff(conn, zone, after)
        finally:
            await conn.close()

    return find


def bot_settings(
    box: Sandbox, config: EmulatorConfig, database_url: str, redis_url: str
) -> Settings:
    update: dict[str, Any] = {
        "BOT_TOKEN": config.token,
        "TELEGRAM_API_URL": box.base_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ADMIN_IDS": sorted({*box.settings.ADMIN_IDS, *cast.ADMIN_IDS}),
        "ADMIN_CHAT_ID": cast.ADMIN_CHAT_ID,
        "SUPPORT_CHAT_ID": cast.SUPPORT_CHAT_ID,
        "INCIDENT_CHAT_ID": cast.INCIDENT_CHAT_ID,
        "WEBHOOK_URL": None,
        "MONITOR_REDIS_URL": box.settings.MONITOR_REDIS_URL
        or (box.redis.url(MONITOR_REDIS_DB) if box.redis is not None else None),
    }
    if box.mail is not None:
        update |= {
            "SUPPORT_EMAIL": box.mail.store.address,
            "IMAP_URL": box.mail.imap_url,
            "SMTP_URL": box.mail.smtp_url,
        }
    world = box.world
    if world is not None:
        update |= {
            "MONITOR_DATABASE_URL": world.config.demo_url,
            "PAKASIR_BASE_URL": world.pakasir_url,
            "PAKASIR_PROJECT": world.config.pakasir_project,
            "PAKASIR_API_KEY": world.config.pakasir_api_key,
            "PAKASIR_PROBE_ORDER_ID": "PROBE-0001",
            "BACKUP_DIR": world.config.backup_dir,
            "LOG_FILES": world.config.log_glob,
            "DOCS_DIR": world.config.docs_dir,
        }
    return box.settings.model_copy(update=update)


BACKUP_HEARTBEAT = "nightly-backup"


def sandbox_rules(settings: Settings, world: DemoWorld | None) -> Rules:
    """RULES_FILE (or the defaults), with the demo disk added to the system probe's mounts and
    the demo backup job's heartbeat (nightly at 02:00 in TIMEZONE, an hour's grace), and
    the demo schema's orphan queries (unless RULES_FILE has its own)."""
    rules = Rules.load(settings.RULES_FILE)
    if world is None:
        return rules
    raw = copy.deepcopy(rules.raw)
    added = ["backup heartbeat"]
    checks = raw.setdefault("heartbeats", {}).setdefault("checks", [])
    if not any(c.get("name") == BACKUP_HEARTBEAT for c in checks):
        checks.append(
            {
                "name": BACKUP_HEARTBEAT,
                "schedule": "0 2 * * *",
                "grace": "1h",
                "severity": "critical",
                "ping_key": world.heartbeat.ping_key,
            }
        )
    raw.setdefault("orphans", {}).setdefault("queries", demo_db.ORPHAN_QUERIES)
    added.append("demo orphan queries")
    if world.disk.available:
        system = raw.setdefault("checks", {}).setdefault("system", {})
        mounts = list(system.get("mounts") or ["/"])
        mounts.append(str(world.disk.mountpoint))
        system["mounts"] = mounts
        added.append("sandbox disk")
    return Rules(raw, source=f"{rules.source} + {' + '.join(added)}")
