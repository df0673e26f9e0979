"""Real servers for the health checks: a monitored PostgreSQL, Redis, Pakasir, archives."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.embedded import EmbeddedPostgres
from sandbox.pakasir import PakasirConfig, PakasirEmulator
from services.checks.config import ChecksRules, Targets
from services.checks.probe import ProbeContext
from services.clock import FrozenClock
from tests.e2e.conftest import (  # noqa: F401  (the real bot against the emulator, for /health)
    e2e_clock,
    e2e_rules,
    world_unstarted,
)

PROBE_ORDER = "PROBE-0001"
PROBE_AMOUNT = 10_000
API_KEY = "pk-secret-7f3a9c1e"


@pytest.fixture
def clock() -> FrozenClock:
    """Frozen at the real present: file mtimes and server clocks agree with it."""
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def make_ctx(clock: FrozenClock) -> Callable[..., ProbeContext]:
    def build(
        rules: dict[str, Any] | None = None, db: Any = None, redis: Any = None, **targets: Any
    ) -> ProbeContext:
        return ProbeContext(
            Targets(**targets), ChecksRules.model_validate(rules or {}), clock, db=db, redis=redis
        )

    return build


@pytest.fixture
async def pakasir() -> AsyncIterator[PakasirEmulator]:
    async with PakasirEmulator(PakasirConfig(api_key=API_KEY)) as emulator:
        emulator.add_transaction(PROBE_ORDER, PROBE_AMOUNT)
        yield emulator


def pakasir_targets(emulator: PakasirEmulator, **overrides: Any) -> dict[str, Any]:
    targets = {
        "pakasir_base_url": emulator.base_url,
        "pakasir_project": emulator.config.project,
        "pakasir_api_key": API_KEY,
        "pakasir_probe_order_id": PROBE_ORDER,
    }
    targets.update(overrides)
    return targets


class HangingServer:
    """Accepts TCP connections on loopback and never says a word (a hung PostgreSQL)."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def _accept(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)

    async def __aenter__(self) -> HangingServer:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self.writers:
            writer.close()
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        return f"postgresql://quickcart:pw@127.0.0.1:{self.port}/quickcart"


@pytest.fixture
async def hanging_postgres() -> AsyncIterator[HangingServer]:
    async with HangingServer() as server:
        yield server


def pg_dump(pg_server: EmbeddedPostgres, url: str, target: Path, *, sidecar: bool = True) -> Path:
    """A real custom-format archive made by the embedded PostgreSQL's pg_dump."""
    subprocess.run(
        [str(pg_server.bin_dir / "pg_dump"), "--format=custom", "--file", str(target), url],
        check=True,
        capture_output=True,
    )
    if sidecar:
        write_sidecar(target)
    return target


def write_sidecar(archive: Path, digest: str | None = None) -> Path:
    digest = digest or hashlib.sha256(archive.read_bytes()).hexdigest()
    sidecar = archive.with_name(archive.name + ".sha256")
    sidecar.write_text(f"{digest}  {archive.name}\n")
    return sidecar


async def fill_shop(url: str, rows: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, note text NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO orders (note) SELECT md5(g::text) || md5((g * 7)::text) "
            "FROM generate_series(1, $1) g",
            rows,
        )
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
def english_by_default(english_by_default: None) -> None:
    """The assertions read English; the bot's own DEFAULT_LOCALE tests set theirs."""
