"""Request deadlines on one timer (deadlines.py): the cancellation protocol of `asyncio.timeout`."""

import asyncio

import pytest

from my_mcp_server.deadlines import Deadlines

TIMEOUT_S = 1.0
# What a loaded machine (the template's matrix runs three suites on two cores) may add to a
# timer's lateness; a deadline that misses its tick by a whole timeout still fails.
SLACK_S = 0.5


async def _request(deadlines: Deadlines, work_s: float) -> tuple[str, float]:
    """('done' | 'timed out', seconds taken) of a request whose work takes `work_s`."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = deadlines.start()
    try:
        await asyncio.sleep(work_s)
        outcome = "done"
    except asyncio.CancelledError:
        if not deadlines.stop(deadline):
            raise
        outcome = "timed out"
    finally:
        deadlines.stop(deadline)
    return outcome, loop.time() - started


def test_a_request_past_its_deadline_is_cancelled_within_a_tick() -> None:
    outcome, took = asyncio.run(_request(Deadlines(TIMEOUT_S), 10))
    assert outcome == "timed out"
    assert TIMEOUT_S <= took < TIMEOUT_S * 1.1 + SLACK_S


def test_requests_within_their_deadline_finish_and_leave_none_pending() -> None:
    async def many() -> list[tuple[str, float]]:
        deadlines = Deadlines(TIMEOUT_S)
        return await asyncio.gather(*(_request(deadlines, 0.01) for _ in range(50)))

    assert {outcome for outcome, _ in asyncio.run(many())} == {"done"}


def test_staggered_requests_each_time_out_at_their_own_deadline() -> None:
    async def staggered() -> list[tuple[str, float]]:
        deadlines = Deadlines(TIMEOUT_S)
        tasks = []
        for work_s in (10, 0.05, 10, 0.05, 10):
            tasks.append(asyncio.create_task(_request(deadlines, work_s)))
            await asyncio.sleep(0.03)
        return await asyncio.gather(*tasks)

    results = asyncio.run(staggered())
    assert [outcome for outcome, _ in results] == ["timed out", "done"] * 2 + ["timed out"]
    for outcome, took in results:
        if outcome == "timed out":
            assert TIMEOUT_S <= took < TIMEOUT_S * 1.1 + SLACK_S


def test_another_cancellation_is_not_taken_for_a_timeout() -> None:
    async def cancelled_by_someone_else() -> None:
        deadlines = Deadlines(TIMEOUT_S)
        task = asyncio.create_task(_request(deadlines, 10))
        await asyncio.sleep(TIMEOUT_S / 4)
        task.cancel()  # e.g. uvicorn at shutdown
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled_by_someone_else())


def test_a_cancellation_at_the_same_moment_is_not_swallowed() -> None:
    async def both() -> None:
        deadlines = Deadlines(TIMEOUT_S)
        deadline = deadlines.start()
        task = asyncio.current_task()
        assert task is not None
        # Someone else cancels the task in the same loop iteration as the deadline fires.
        asyncio.get_running_loop().call_at(deadline.at, task.cancel)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if not deadlines.stop(deadline):
                raise
        finally:
            deadlines.stop(deadline)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(both())
