"""The engine's worker thread: calls run in order on one thread, batched; errors reach the
caller; closing runs what was queued, then the last call."""

from __future__ import annotations

import asyncio
import threading

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
