"""Running a program the maintenance tasks need (pg_restore, pip-audit, git, the fraud model's
retraining command): no shell, nothing on stdin, a time limit.

A run that outlives its limit (or whose caller is cancelled) is killed — its whole process
group when it was started in a session of its own — and reaped, so no child is left behind;
then the TimeoutError (or the cancellation) reaches the caller. A program that cannot be
started raises OSError (FileNotFoundError when it is not installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

REAP_S = 5.0  # how long a killed process may take to be gone


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str  # with `merge_stderr`, both streams
    stderr: str


async def run_process(
    argv: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    merge_stderr: bool = False,
    own_session: bool = False,
) -> Finished:
    """Run `argv` to its end within `timeout` seconds; its output decoded (bad bytes replaced).

    `env`: the whole environment (None: this process's). `merge_stderr`: stderr goes into
    stdout, in order. `own_session`: the program runs in a new session, and a timeout kills
    everything it started, not only itself."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
        env=None if env is None else dict(env),
        start_new_session=own_session,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            if own_session:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), REAP_S)
        raise
    return Finished(
        proc.returncode or 0,
        out.decode(errors="replace"),
        (err or b"").decode(errors="replace"),
    )
