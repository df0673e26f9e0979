"""What a probe is: a function of a `ProbeContext` that measures one thing, and the two ways it
says it could not (`NotConfigured`, `ProbeFailed`). The probes (services/checks/probes/) and the
runner that time-boxes them both import this; neither imports the other's internals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.checks.config import ChecksRules, Targets
from services.checks.model import Outcome, Sentence, Status
from services.clock import Clock
from services.storage.types import Executor


class NotConfigured(Exception):
    """The setting a probe needs is not set: its status is unknown, not an error."""

    def __init__(self, setting: str) -> None:
        super().__init__(setting)
        self.setting = setting


class ProbeFailed(Exception):
    """A probe's own, already-safe explanation of why it could not measure."""

    def __init__(self, sentence: Sentence, status: Status = Status.CRIT) -> None:
        super().__init__(sentence.msgid)
        self.sentence = sentence
        self.status = status


@dataclass
class ProbeContext:
    """Everything a probe may use. `db` and `redis` are the bot's own stores (may be None)."""

    targets: Targets
    rules: ChecksRules
    clock: Clock
    db: Executor | None = None
    redis: Any = None

    def secrets(self) -> list[str]:
        return [s for s in (self.targets.pakasir_api_key,) if s]


Probe = Callable[[ProbeContext], Awaitable[Outcome]]
