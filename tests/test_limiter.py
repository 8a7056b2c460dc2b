"""PriorityLimiter: evenly spaced turns, served by priority, then in arrival order."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram.limiter import PriorityLimiter
from bot.events import Priority


@pytest.mark.asyncio
async def test_waiters_go_by_priority_then_in_order_evenly_spaced() -> None:
    loop = asyncio.get_running_loop()
    limiter = PriorityLimiter(per_second=50)
    went: list[tuple[str, float]] = []

    async def send(name: str, priority: Priority) -> None:
        await limiter.wait(priority)
        went.append((name, loop.time()))

    first = asyncio.create_task(send("first", Priority.NUDGE))  # nobody waits: goes now
    await asyncio.sleep(0)
    queued = [asyncio.create_task(send(name, priority)) for name, priority in (
        ("nudge 1", Priority.NUDGE), ("nudge 2", Priority.NUDGE),
        ("follow-up", Priority.FOLLOW_UP), ("reply", Priority.REPLY),
        ("crisis", Priority.CRISIS))]
    await asyncio.gather(first, *queued)
    assert [name for name, _ in went] == ["first", "crisis", "reply", "follow-up",
                                          "nudge 1", "nudge 2"]
    gaps = [b - a for (_, a), (_, b) in zip(went, went[1:], strict=False)]
    assert min(gaps) >= 0.02 * 0.9  # 50 a second: one every 20 ms, never a burst
    assert limiter.waiting() == 0


@pytest.mark.asyncio
async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    limiter = PriorityLimiter(per_second=50)
    await limiter.wait(Priority.REPLY)
    gone = asyncio.create_task(limiter.wait(Priority.CRISIS))
    stays = asyncio.create_task(limiter.wait(Priority.NUDGE))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(stays, 1)
    assert limiter.waiting() == 0
