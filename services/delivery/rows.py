"""An outbox row as the worker and the hooks see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    thread_id: int | None
    thread_ref: int | None
    ref_id: int | None
    kind: str
    payload: dict[str, Any]
    dedup_key: str | None
    owner: str | None
    coalesce_key: str | None
    priority: int
    not_before: datetime
    status: str
    attempts: int
    message_id: int | None
    result: dict[str, Any] | None
    last_error: str | None
    created_at: datetime
    parts_sent: int = 0
    failure: str | None = None
    digest_id: int | None = None
    topic_key: int = 0  # its conversation within the chat (services.outbox.topic_key)

    @property
    def conversation(self) -> str:
        return f"{self.chat_id}:{self.topic_key}"

    @classmethod
    def from_record(cls, record: Any) -> OutboxRow:
        return cls(**{name: record[name] for name in _FIELDS})


_FIELDS = tuple(OutboxRow.__dataclass_fields__)
COLUMNS = ", ".join(_FIELDS)
