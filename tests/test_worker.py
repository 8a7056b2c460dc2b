"""The engine's worker thread: calls run in order on one thread, batched; errors reach the
caller; closing runs what was queued, then the last call."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.worker import Worker


@pytest.mark.asyncio
async def test_calls_run_in_order_on_one_thread_and_errors_reach_the_caller() -> None:
    worker = Worker("test")
    seen: list[tuple[int, str]] = []

    def step(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        if i == 7:
            raise ValueError("seven")
        return i * i

    futures = [worker.call(step, i) for i in range(100)]  # more than one batch
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert [i for i, _ in seen] == list(range(100))
    assert {name for _, name in seen} == {"test"}
    assert results[3] == 9 and isinstance(results[7], ValueError)
    worker.close()


@pytest.mark.asyncio
async def test_close_runs_the_queued_calls_then_the_last_and_refuses_more() -> None:
    worker = Worker()
    done: list[str] = []
    gate = threading.Event()
    first = worker.call(gate.wait)
    queued = worker.call(done.append, "queued")
    gate.set()
    worker.close(last=lambda: done.append("last"))
    assert done == ["queued", "last"]
    assert await first and await queued is None
    with pytest.raises(RuntimeError):
        worker.call(done.append, "late")


@pytest.mark.asyncio
async def test_a_quick_call_is_not_held_back_by_a_slow_one_after_it() -> None:
    """A turn's results used to be handed back together: a quick step waited for a slow
    one queued after it (a chart, a lookup)."""
    worker = Worker()
    gate = threading.Event()
    busy = worker.call(gate.wait)  # the worker is busy: the next calls queue up together
    quick = worker.call(lambda: time.sleep(0.002) or "quick")
    slow_started, finish = threading.Event(), threading.Event()

    def slow() -> str:
        slow_started.set()
        finish.wait(30)
        return "slow"

    later = worker.call(slow)
    gate.set()
    await busy
    try:
        # The slow call lasts until the quick one's result is here: handed back together,
        # the quick result would not come (this wait gives up after 5 s and fails).
        assert await asyncio.wait_for(quick, 5) == "quick"
        assert not later.done()
    finally:
        finish.set()
    assert await later == "slow"
    assert slow_started.is_set()
    worker.close()
