"""Telegram's overall limit (about 30 messages a second) shared by priority.

python-telegram-bot's AIORateLimiter serves everyone in arrival order: at check-in time the
day's nudges queued ahead of a person with a craving, and the crisis numbers waited behind
them (issue 13 measured 2.4-4.4 s). This limiter lets `per_second` messages go a second,
evenly spaced, and whoever waits is served by `Priority` (crisis, replies, follow-ups,
nudges), then in arrival order: nudges get only what the others leave, and all of it when nobody
else is writing. The sender passes each message's priority as python-telegram-bot's
`rate_limit_args`; calls that are not messages (getUpdates, answerCallbackQuery ...) are
not counted, as Telegram does not count them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.events import Priority

LATE = 0.01  # seconds a turn may be taken late and still keep the cadence


class PriorityLimiter(BaseRateLimiter[dict[str, int]]):
    """Messages evenly spaced, `per_second` a second: bursts at a window's edge, even
    under the limit here, arrive bunched at Telegram and count over it there."""

    def __init__(self, per_second: int, *, clock: Callable[[], float] = time.monotonic):
        self.per_second = per_second
        self._interval = 1.0 / per_second
        self._clock = clock
        self._next = 0.0  # when the next message may go
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap
        self._order = itertools.count()
        self._wake: asyncio.TimerHandle | None = None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, int] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint.startswith("send"):
            await self.wait((rate_limit_args or {}).get("priority", Priority.REPLY))
        return await callback(*args, **kwargs)

    def waiting(self) -> int:
        """Messages waiting for their turn (tests, metrics)."""
        return sum(not future.done() for _, _, future in self._waiting)

    async def wait(self, priority: int) -> None:
        """Until this message may go: now if it is its turn and nobody waits."""
        if not self._waiting and self._clock() >= self._next:
            self._take()
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        self._schedule()
        await future  # a cancelled waiter is skipped when its turn comes

    def _take(self) -> None:
        now = self._clock()
        # A turn taken a little late (the loop woke late) keeps the cadence, or every late
        # wake-up would lose its lateness (3% of the rate, measured); time nobody used is
        # not saved up for a burst.
        start = self._next if now - self._next <= LATE else now
        self._next = start + self._interval

    def _release(self) -> None:
        self._wake = None
        while self._waiting and self._clock() >= self._next:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                self._take()
                future.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        if self._waiting and self._wake is None:
            delay = max(self._next - self._clock(), 0.0)
            self._wake = asyncio.get_running_loop().call_later(delay, self._release)
