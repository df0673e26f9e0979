"""Start the Debian `prometheus-alertmanager` on loopback with a webhook receiver (used by the
tests and by bench/alert_ingest.py)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from tests.net import free_port

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

CONFIG = """
route:
  receiver: quickcart
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 4h
receivers:
  - name: quickcart
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


@asynccontextmanager
async def alertmanager(webhook_url: str, token: str) -> AsyncIterator[str]:
    """Yield Alertmanager's base URL; it posts its notifications to `webhook_url`."""
    async with running(CONFIG.format(url=webhook_url, token=token)) as base:
        yield base


@asynccontextmanager
async def running(config: str, prefix: str = "qc-am-") -> AsyncIterator[str]:
    """Alertmanager on a free loopback port with `config` (its YAML), ready: its base URL.
    No cluster (no gossip wait); what it says on stderr is in the error if it will not start."""
    assert BINARY is not None
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "am.yml").write_text(config)
    port = free_port()
    with (root / "stderr").open("wb") as stderr:
        process = subprocess.Popen(  # noqa: ASYNC220 (started once, returns at once)
            [
                BINARY,
                f"--config.file={root / 'am.yml'}",
                f"--storage.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"{base}/-/ready") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if process.poll() is not None:
                    raise AssertionError((root / "stderr").read_text())
                await asyncio.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
