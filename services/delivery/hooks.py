"""Results go back to the feature that owns a row (owner "ticket:42" -> the "ticket" hook).

A hook runs inside the transaction that records the outcome, with that connection as `db`,
so anything it enqueues (a recreated topic, a note to staff) commits together with it.
"""

from __future__ import annotations

from typing import Any

from services.delivery.errors import PermanentError
from services.delivery.rows import OutboxRow
from services.storage.types import Executor


def owner_id(owner: str | None, prefix: str) -> int | None:
    """The id in an owner key of this hook's prefix ("ticket:42", "ticket" -> 42); None for
    another prefix's row, or one with no id."""
    if not owner or not owner.startswith(prefix + ":"):
        return None
    tail = owner.split(":", 1)[1]
    return int(tail) if tail.isdigit() else None


class DeliveryHook:
    """Override what you need; the defaults do nothing."""

    def wants_sent(self, row: OutboxRow) -> bool:
        """Whether `on_sent` has anything to do for this row. False spares the transaction
        around the mark (three round trips of four): most rows of a storm need none."""
        return True

    async def on_sent(self, db: Executor, row: OutboxRow, result: dict[str, Any]) -> None:
        """The row left: `result` holds message_id (message_ids when split) or the topic id."""

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        """Telegram refused for good (error.reason: forbidden, chat_not_found, ...)."""

    async def on_coalesced(self, db: Executor, row: OutboxRow, digest_id: int) -> None:
        """The row was folded into a storm digest instead of being sent alone."""

    async def on_migrated(self, db: Executor, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup; pending rows were moved already."""


class DeliveryHooks:
    def __init__(self) -> None:
        self._hooks: dict[str, DeliveryHook] = {}
        self._watchers: list[DeliveryHook] = []

    def register(self, prefix: str, hook: DeliveryHook) -> None:
        """`prefix` is the part of `owner` before ':' ("ticket", "alert_group")."""
        self._hooks[prefix] = hook

    def for_owner(self, owner: str | None) -> DeliveryHook | None:
        if not owner:
            return None
        return self._hooks.get(owner.split(":", 1)[0])

    def watch(self, hook: DeliveryHook) -> None:
        """`hook.on_failed` hears every row's failure, whoever owns it (after the owner's hook):
        for what concerns a chat rather than a feature (a person who never pressed Start)."""
        self._watchers.append(hook)

    def watchers(self) -> list[DeliveryHook]:
        return list(self._watchers)

    def all(self) -> list[DeliveryHook]:
        return list(self._hooks.values())
