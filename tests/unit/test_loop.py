"""services/loop.py, the loop of the escalation, rooms and on-call workers: a failed round is
logged and tried again after the usual pause, a round's own delay wins over that pause, `wake`
cuts a pause short and `stop` ends the loop."""

from __future__ import annotations

import asyncio

import asyncpg

from services.loop import Loop


class Counting(Loop):
    what = "counting"

    def __init__(self, delays: list[float | Exception | None]) -> None:
        super().__init__()
        self.delays = delays
        self.rounds = 0
        self.seen = asyncio.Event()

    def pause(self) -> float:
        return 30.0  # never reached in these tests unless something waits for it

    async def round(self) -> float | None:
        self.rounds += 1
        self.seen.set()
        step = self.delays[min(self.rounds, len(self.delays)) - 1]
        if isinstance(step, Exception):
            raise step
        return step


async def rounds_after(loop: Counting, count: int, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while loop.rounds < count:
            loop.seen.clear()
            await loop.seen.wait()


async def test_a_failed_round_is_tried_again_and_a_round_sets_its_own_delay() -> None:
    loop = Counting([asyncpg.PostgresConnectionError("restarting"), 0.01, 0.01])
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.05)
    assert loop.rounds == 1  # the failed round waits the usual pause (30 s)...
    loop.wake()  # ...unless woken
    await rounds_after(loop, 4)  # then 0.01 s between rounds, as the round said
    loop.stop()
    await asyncio.wait_for(task, 1)


async def test_wake_cuts_the_pause_short_and_stop_ends_the_loop() -> None:
    loop = Counting([None])
    task = asyncio.create_task(loop.run())
    await rounds_after(loop, 1)
    await asyncio.sleep(0.05)
    assert loop.rounds == 1  # pausing 30 s
    loop.wake()
    await rounds_after(loop, 2)
    loop.stop()
    await asyncio.wait_for(task, 1)
    assert loop.rounds == 2


class StoppedMidRound(Counting):
    """A round during which the app shuts down (`stop` arrives while it runs)."""

    async def round(self) -> float | None:
        await super().round()
        self.stop()
        return None


async def test_stop_during_a_round_ends_the_loop_without_waiting_for_the_pause() -> None:
    loop = StoppedMidRound([None])
    # the pause is 30 s: a stop whose wake was cleared after the round would wait it out
    await asyncio.wait_for(loop.run(), 5)
    assert loop.rounds == 1
