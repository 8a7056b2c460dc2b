"""Run engine steps from asyncio: one user's events strictly in order, users independent.

Engine.handle is synchronous and touches SQLite, so steps run on one worker thread
(keeping the event loop free and all database work on one thread). A per-user lock is
held from the step until its replies are delivered, so a user's replies never overtake
each other; locks are dropped as soon as nobody waits on them, so memory does not grow
with the number of users.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.dialog.engine import Engine
from bot.events import Incoming, Outgoing

Deliver = Callable[[int, list[Outgoing]], Awaitable[None]]
T = TypeVar("T")


class Dispatcher:
    def __init__(self, engine: Engine, *, max_concurrent: int = 64):
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._slots = asyncio.Semaphore(max_concurrent)

    async def process(self, event: Incoming, deliver: Deliver) -> list[Outgoing]:
        """Handle one event and deliver its replies, in order with the user's other events."""
        # The user's lock first: one busy user's queued events must not take every slot.
        async with self._user(event.user_id), self._slots:
            replies = await self.run(self.engine.handle, event)
            if replies:
                await deliver(event.user_id, replies)
            return replies

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a call that touches the engine or the store on the engine thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    def _user(self, user_id: int) -> _UserLock:
        return _UserLock(self._locks, user_id)

    def active_users(self) -> int:
        """Users with an event in flight or waiting (for tests and metrics)."""
        return len(self._locks)

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class _UserLock:
    """A per-user asyncio lock that disappears when its last holder or waiter leaves."""

    def __init__(self, table: dict[int, tuple[asyncio.Lock, int]], user_id: int):
        self._table, self._user_id = table, user_id

    async def __aenter__(self) -> None:
        lock, users = self._table.get(self._user_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._table[self._user_id] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._release_slot()
            raise

    async def __aexit__(self, *exc: object) -> None:
        lock, _ = self._table[self._user_id]
        lock.release()
        self._release_slot()

    def _release_slot(self) -> None:
        lock, users = self._table[self._user_id]
        if users <= 1:
            del self._table[self._user_id]
        else:
            self._table[self._user_id] = (lock, users - 1)
