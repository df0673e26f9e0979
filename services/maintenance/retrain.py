"""FRAUD_RETRAIN_COMMAND, run time-boxed: its exit code, duration and the tail of its output are
what the monthly fraud model update records. The command line is split like a shell would
(shlex) but no shell runs it; the window and the number of new cases arrive as environment
variables (QC_FRAUD_SINCE, QC_FRAUD_UNTIL, QC_FRAUD_NEW_CASES)."""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass
from typing import Any

from services.process import run_process

OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class RetrainResult:
    status: str  # ok | failed | timeout | error
    exit_code: int | None
    duration_s: float
    output: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ran": True,
            "status": self.status,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 2),
            "output": self.output,
        }


async def run(command: str, timeout_s: float, env: dict[str, str]) -> RetrainResult:
    started = time.monotonic()
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return RetrainResult("error", None, 0.0, f"cannot parse the command: {exc}")
    if not argv:
        return RetrainResult("error", None, 0.0, "the command is empty")
    try:
        done = await run_process(
            argv, timeout_s, env={**os.environ, **env}, merge_stderr=True, own_session=True
        )
    except TimeoutError:  # before OSError, of which it is one
        return RetrainResult(
            "timeout", None, time.monotonic() - started, f"stopped after {timeout_s:g} s"
        )
    except OSError as exc:
        return RetrainResult("error", None, time.monotonic() - started, str(exc))
    text = done.stdout[-OUTPUT_TAIL:]
    code = done.returncode
    return RetrainResult("ok" if code == 0 else "failed", code, time.monotonic() - started, text)
