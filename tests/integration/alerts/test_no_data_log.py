"""A rule whose source cannot be read is logged when it loses its data and when the data comes
back, not at every evaluation (the sandbox's console was 343 of 549 lines of "alert rule
TelegramDeliveryLow has no data", one every 5 s)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import asyncpg
import pytest
from loguru import logger

from services.alerts import engine
from services.alerts.config import AlertsRules
from services.alerts.sources import NoData, Sample, SourceContext
from services.clock import FrozenClock
from tests.integration.alerts.conftest import cpu_only


class Flaky:
    """A source that is down until told otherwise."""

    def __init__(self) -> None:
        self.down = True

    async def read(self, ctx: SourceContext, now: datetime) -> list[Sample] | None:
        if self.down:
            raise NoData("ConnectionRefusedError")
        return [Sample(12.0)]


@pytest.fixture
def logged() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG")
    yield lines
    logger.remove(sink)


def one_rule(name: str) -> AlertsRules:
    rule = cpu_only().rules[0].model_dump(by_alias=True)
    return AlertsRules.model_validate({"rules": [{**rule, "name": name}]})


async def test_a_rule_without_data_is_logged_once_when_it_stops_and_once_when_it_recovers(
    pool: asyncpg.Pool, clock: FrozenClock, logged: list[str]
) -> None:
    name = f"DeliveryLow{uuid.uuid4().hex[:8]}"  # the log state is per process, per rule
    config, source = one_rule(name), Flaky()

    async def evaluations(count: int) -> list[str]:
        logged.clear()
        for _ in range(count):
            report = await engine.evaluate(pool, config, clock, sources={name: source})
            assert report.no_data == ([name] if source.down else [])
            clock.advance(seconds=5)
        return [line for line in logged if name in line]

    assert await evaluations(12) == [f"alert rule {name} has no data: ConnectionRefusedError"]
    source.down = False
    assert await evaluations(12) == [f"alert rule {name} has data again"]
    source.down = True
    assert await evaluations(3) == [f"alert rule {name} has no data: ConnectionRefusedError"]
