"""PriorityLimiter: evenly spaced turns, served by priority, then in arrival order."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.channels.telegram.limiter import LATE, PriorityLimiter
from bot.events import Priority


@pytest.mark.asyncio
async def test_waiters_go_by_priority_then_in_order_evenly_spaced() -> None:
    """The turns are read on the limiter's own clock when it gives them, not when each
    waiter happens to wake up (a loaded machine wakes some late and others not)."""
    limiter = PriorityLimiter(per_second=50, clock=time.monotonic)
    turns: list[float] = []
    take = limiter._take

    def taken() -> None:
        turns.append(time.monotonic())
        take()

    limiter._take = taken  # type: ignore[method-assign]
    went: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        await limiter.wait(priority)
        went.append(name)

    first = asyncio.create_task(send("first", Priority.NUDGE))  # nobody waits: goes now
    await asyncio.sleep(0)
    queued = [asyncio.create_task(send(name, priority)) for name, priority in (
        ("nudge 1", Priority.NUDGE), ("nudge 2", Priority.NUDGE),
        ("follow-up", Priority.FOLLOW_UP), ("reply", Priority.REPLY),
        ("crisis", Priority.CRISIS))]
    await asyncio.gather(first, *queued)
    assert went == ["first", "crisis", "reply", "follow-up", "nudge 1", "nudge 2"]
    # 50 a second: one every 20 ms, never a burst. A turn taken late (by up to LATE) keeps
    # the cadence, so the next may follow it sooner, but never sooner than that, and the
    # six turns span five intervals at least.
    gaps = [b - a for a, b in zip(turns, turns[1:], strict=False)]
    assert len(turns) == 6 and min(gaps) >= 0.02 - LATE, gaps
    assert turns[-1] - turns[0] >= 5 * 0.02, turns
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
