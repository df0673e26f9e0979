"""`quickcart-ops sandbox`: the whole product on one machine, with a web chat instead of Telegram.

Brings up, in order: the embedded PostgreSQL (the bot's database and the demo QuickCart's)
and Redis under DATA_DIR, the demo world (history, backups, logs, Pakasir emulator, disk), the
Telegram Bot API emulator serving the web chat page and the world panel, the cast and their
chats, the staff roster, and the bot itself polling the emulator. Ctrl-C stops it all in
reverse order; the next start reuses DATA_DIR (the bot's data and the emulated chats).

This module and bot/sandbox_cast.py (who and what the sandbox starts with: the cast in the
emulator, the roster and the rotation, the bot's settings and rules) are the only modules of
the bot that import `sandbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from loguru import logger

from bot.embedded import EmbeddedPostgres, EmbeddedRedis, pg_bin
from bot.logs import setup_logging
from bot.monitor import MONITOR_CONFIG, MonitorConfig
from bot.runtime import apply_migrations, create_app, resolve_database_url, resolve_redis_url
from bot.sandbox_cast import (
    bot_settings,
    handoff_finder,
    populate,
    sandbox_rules,
    seed_roster,
    seed_rotation,
)
from bot.settings import Settings, SettingsError
from sandbox.mail import MailStandIn
from sandbox.telegram.botapi import RUNTIME
from sandbox.telegram.config import EmulatorConfig
from sandbox.telegram.runtime import Runtime
from sandbox.telegram.server import create_app as create_emulator_app
from sandbox.world import DemoWorld, WorldConfig, cast, panel, snapshot

WEB_DIR = Path(__file__).resolve().parent.parent / "sandbox" / "web"
SNAPSHOT_EVERY_S = 30.0
# Probes every 20 s (production: 60 s), so a break in the world shows within a demo minute.
SANDBOX_MONITOR = MonitorConfig(probe_interval=20.0, tick_interval=5.0)


@dataclass
class Sandbox:
    """Everything the sandbox started, so it can be stopped in reverse order."""

    settings: Settings
    port: int
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    world: DemoWorld | None = None
    mail: MailStandIn | None = None
    emulator: web.AppRunner | None = None
    bot: web.AppRunner | None = None
    bot_settings: Settings | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.DATA_DIR).resolve()

    @property
    def snapshot_file(self) -> Path:
        return self.data_dir / "telegram.json"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime(self) -> Runtime:
        assert self.emulator is not None
        return self.emulator.app[RUNTIME]


def run_sandbox(settings: Settings, *, port: int = 8081) -> int:
    """The CLI entry point: run until Ctrl-C (or SIGTERM), then stop everything cleanly."""
    try:
        return asyncio.run(_main(settings, port))
    except KeyboardInterrupt:
        return 0


async def _main(settings: Settings, port: int) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with running(settings, port=port) as box:
        print(describe(box), flush=True)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SNAPSHOT_EVERY_S)
            dumped = snapshot.dump(box.runtime.world)
            await asyncio.to_thread(snapshot.write, dumped, box.snapshot_file)
        print("\nstopping the sandbox...", flush=True)
    print(f"stopped; the data stays in {settings.DATA_DIR}", flush=True)
    return 0


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    *,
    port: int = 8081,
    with_world: bool = True,
    monitor: MonitorConfig | None = None,
) -> AsyncIterator[Sandbox]:
    """The sandbox as an async context manager (the browser tests use it with port 0)."""
    box = Sandbox(settings=settings, port=port)
    started = time.monotonic()
    try:
        await _start(box, with_world=with_world, monitor=monitor or SANDBOX_MONITOR)
        logger.info("sandbox ready in {:.1f} s at {}", time.monotonic() - started, box.base_url)
        yield box
    finally:
        await _stop(box)


async def _start(box: Sandbox, *, with_world: bool, monitor: MonitorConfig) -> None:
    data_dir = box.data_dir
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    # Embedded stores under DATA_DIR unless DATABASE_URL / REDIS_URL (and MONITOR_DATABASE_URL
    # for the demo QuickCart) name servers to use instead; the browser tests do that.
    database_url, box.postgres = await resolve_database_url(box.settings)
    redis_url, box.redis = await asyncio.to_thread(resolve_redis_url, box.settings)
    await apply_migrations(database_url)
    await seed_roster(database_url)

    if with_world:
        demo_url = box.settings.MONITOR_DATABASE_URL
        admin_url = None
        if demo_url is None:
            if box.postgres is None:
                raise SettingsError("MONITOR_DATABASE_URL: set it too when DATABASE_URL is set")
            demo_url, admin_url = box.postgres.url_for("quickcart"), box.postgres.url
        box.world = DemoWorld(
            WorldConfig(
                folder=data_dir / "quickcart",
                demo_url=demo_url,
                admin_url=admin_url,
                pg_dump=pg_bin("pg_dump"),
                timezone=box.settings.TIMEZONE,
            )
        )
        await box.world.start()
        box.world.next_handoff = handoff_finder(database_url, box.settings.TIMEZONE)
    await seed_rotation(
        database_url,
        box.world.clock.now() if box.world is not None else datetime.now(UTC),
        box.settings.TIMEZONE,
    )

    config = EmulatorConfig(host="127.0.0.1", port=box.port)
    app = create_emulator_app(config, static_dir=WEB_DIR)
    runtime = app[RUNTIME]
    if await asyncio.to_thread(snapshot.load, runtime.world, box.snapshot_file):
        logger.info("emulated chats restored from {}", box.snapshot_file)
    populate(runtime)
    if not (box.settings.SUPPORT_EMAIL or box.settings.IMAP_URL or box.settings.SMTP_URL):
        # the e-mail channel against the sandbox's own mail servers, tried in the panel
        box.mail = MailStandIn()
        await box.mail.start()
    shown: dict[str, str] = {}  # filled below, once the ports are known
    panel.mount(app, box.world, shown, mail=box.mail)
    box.emulator = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await box.emulator.setup()
    site = web.TCPSite(box.emulator, config.host, config.port)
    await site.start()
    box.port = _bound_port(site) or box.port

    box.bot_settings = bot_settings(box, config, database_url, redis_url)
    # The sandbox makes its own secrets (the emulator's token, the Pakasir key): redact them too.
    setup_logging(
        box.bot_settings.secrets,
        fmt=box.bot_settings.LOG_FORMAT,
        level=box.bot_settings.LOG_LEVEL,
    )
    shown.update(_printable(box.bot_settings))
    rules = sandbox_rules(box.bot_settings, box.world)
    clock = box.world.clock if box.world is not None else None
    bot_app = create_app(box.bot_settings, clock=clock, rules=rules)
    bot_app[MONITOR_CONFIG] = monitor
    box.bot = web.AppRunner(bot_app)
    await box.bot.setup()
    bot_site = web.TCPSite(box.bot, box.bot_settings.HTTP_HOST, box.bot_settings.HTTP_PORT)
    await bot_site.start()
    if box.world is not None:
        # The backup job pings the bot's own address (the port it really got, when 0 was asked).
        base = box.bot_settings.PING_BASE_URL or (
            f"http://{box.bot_settings.HTTP_HOST}:"
            f"{_bound_port(bot_site) or box.bot_settings.HTTP_PORT}"
        )
        box.world.heartbeat.url = f"{base.rstrip('/')}/ping/{box.world.heartbeat.ping_key}"
        await box.world.report_last_backup()


async def _stop(box: Sandbox) -> None:
    if box.bot is not None:
        await box.bot.cleanup()
    if box.mail is not None:
        await box.mail.stop()
    if box.emulator is not None:
        with contextlib.suppress(OSError):
            dumped = snapshot.dump(box.runtime.world)
            await asyncio.to_thread(snapshot.write, dumped, box.snapshot_file)
        await box.emulator.cleanup()
    if box.world is not None:
        await box.world.stop()
    if box.redis is not None:
        await asyncio.to_thread(box.redis.stop)
    if box.postgres is not None:
        await asyncio.to_thread(box.postgres.stop)


def _bound_port(site: web.TCPSite) -> int | None:
    server = site._server
    for sock in getattr(server, "sockets", None) or []:
        port: int = sock.getsockname()[1]
        return port
    return None


_SHOWN = (
    "TELEGRAM_API_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "ADMIN_IDS",
    "ADMIN_CHAT_ID",
    "SUPPORT_CHAT_ID",
    "INCIDENT_CHAT_ID",
    "MONITOR_DATABASE_URL",
    "MONITOR_REDIS_URL",
    "PAKASIR_BASE_URL",
    "PAKASIR_PROJECT",
    "PAKASIR_PROBE_ORDER_ID",
    "BACKUP_DIR",
    "SUPPORT_EMAIL",
    "LOG_FILES",
    "DOCS_DIR",
    "DATA_DIR",
    "TIMEZONE",
    "DEFAULT_LOCALE",
)


def _printable(settings: Settings) -> dict[str, str]:
    shown = {name: getattr(settings, name) for name in _SHOWN}
    shown["HTTP"] = f"http://{settings.HTTP_HOST}:{settings.HTTP_PORT}"
    return {k: ", ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in shown.items()}


def describe(box: Sandbox) -> str:
    assert box.bot_settings is not None
    lines = [
        "",
        "QuickCart Ops sandbox is running.",
        f"  Open the web chat:   {box.base_url}/",
        f"  Bot API emulator:    {box.base_url}/bot<token>/<method>  (control API: /control/)",
        "",
        "Settings the bot runs with:",
        *(f"  {name:<24}{value}" for name, value in _printable(box.bot_settings).items()),
        "",
        "The cast (pick one with 'You are' on the page):",
        *(f"  {m.id}  {m.first_name:<8}{m.title}" for m in cast.CAST),
        "",
        "Press Ctrl-C to stop; the next start reuses DATA_DIR.",
    ]
    if box.world is not None and not box.world.disk.available:
        lines.insert(-1, f"Note: 'fill the disk' is unavailable: {box.world.disk.reason}")
    return "\n".join(lines)
