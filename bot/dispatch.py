"""Run engine steps from asyncio: one user's events strictly in order, users independent.

Engine.handle is synchronous and touches SQLite, so steps run on one worker thread (bot.worker)
(keeping the event loop free and all database work on one thread). A per-user lock is
held from the step until its replies are delivered, so a user's replies never overtake
each other; locks are dropped as soon as nobody waits on them, so memory does not grow
with the number of users.

Replies are saved with their step (the outbox) and confirmed one by one as they are
delivered, so a crash loses none: resend_unsent sends what was left at the next start. An
outage longer than a send's own retries loses none either: the channel raises ChannelDown,
the person's replies stay in the outbox, and they are tried again every `retry_every`
seconds, oldest first and before anything newer of theirs, until they go or are older than
`keep_for` (out of context by then).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Protocol, TypeVar

from bot.events import Incoming, Outgoing
from bot.storage.outbox import Deliveries
from bot.worker import Worker

log = logging.getLogger(__name__)

# Deliver one reply to a user; False when the rest of that step's replies cannot be
# delivered either (the person blocked the bot). Raises ChannelDown when the channel
# cannot be reached at all.
Deliver = Callable[[int, Outgoing], Awaitable[bool]]
T = TypeVar("T")


class ChannelDown(Exception):
    """The channel could not be reached (its own retries used up): keep the reply, and the
    rest of its step, in the outbox for later."""


class StepRunner(Protocol):
    """What the dispatcher runs (bot.dialog.engine.Engine): steps, on the engine thread."""

    deliveries: Deliveries  # replies delivered, until a step's transaction confirms them

    def handle(self, event: Incoming) -> list[Outgoing]: ...

    def draw(self, reply: Outgoing) -> Outgoing:
        """The reply with its picture drawn (off the engine thread)."""
        ...


class Dispatcher:
    def __init__(self, engine: StepRunner, *, max_concurrent: int = 64,
                 keep_for: timedelta = timedelta(hours=1), retry_every: float = 10.0):
        self.engine = engine
        self.keep_for = keep_for
        self.retry_every = retry_every
        self._worker = Worker("engine")
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._slots = asyncio.Semaphore(max_concurrent)
        self._flush_queued = False
        self._held: dict[int, Deliver] = {}  # people whose replies wait for the channel
        # Pictures are drawn here, one at a time (matplotlib is not thread-safe), never on
        # the engine thread: a chart takes ~100 ms.
        self._drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drawing")
        self._retrying: asyncio.Task[None] | None = None

    async def process(self, event: Incoming, deliver: Deliver) -> list[Outgoing]:
        """Handle one event and deliver its replies, in order with the user's other events."""
        # The user's lock first: one busy user's queued events must not take every slot.
        # A slot bounds the steps in flight, not deliveries: a reply waiting its turn under
        # the channel's limit (a nudge at peak hour) must not keep anyone else's step out.
        async with self._user(event.user_id):
            async with self._slots:
                replies = await self.run(self.engine.handle, event)
            if event.user_id in self._held:
                # Replies kept from an outage go first; this step's are in the outbox too.
                await self._deliver_unsent(event.user_id, deliver)
            else:
                await self._deliver(event.user_id, replies, deliver)
            return replies

    def held(self) -> int:
        """People with replies waiting for the channel to come back (tests, metrics)."""
        return len(self._held)

    async def resend_unsent(self, deliver: Deliver, max_age: timedelta,
                            user_id: int | None = None) -> int:
        """Send the replies a crash left in the outbox, to everyone or to one user (before
        anything new); returns how many."""
        unsent = await self.run(self.engine.deliveries.unsent, max_age, user_id)
        by_user: dict[int, list[Outgoing]] = {}
        for item in unsent:
            by_user.setdefault(item.user_id, []).append(item.reply)
        await asyncio.gather(*(self._resend(user_id, replies, deliver)
                               for user_id, replies in by_user.items()))
        return len(unsent)

    async def _resend(self, user_id: int, replies: list[Outgoing], deliver: Deliver) -> None:
        async with self._user(user_id):
            await self._deliver(user_id, replies, deliver)

    async def _deliver(self, user_id: int, replies: list[Outgoing], deliver: Deliver) -> None:
        """Deliver in order, confirming each reply as soon as it is out. A reply the
        channel refuses, or cannot deliver to this person (blocked), is confirmed too; one
        the channel could not be reached for stays, with the rest, to be tried again."""
        pending = list(replies)
        try:
            while pending:
                reply = await self._drawn(pending[0])
                if reply is not None and not await deliver(user_id, reply):
                    break
                self._confirm([pending.pop(0)])
            self._confirm(pending)  # the rest cannot arrive either (blocked)
            self._held.pop(user_id, None)
        except ChannelDown:
            if user_id not in self._held:
                log.warning("the channel is down: replies to user %s kept to send later",
                            user_id)
            self._held[user_id] = deliver
            self._retry_soon()
        except Exception:
            self._confirm(pending)  # a send that failed is not retried at the next start
            raise
        finally:
            if replies:
                self._flush_soon()

    async def _drawn(self, reply: Outgoing) -> Outgoing | None:
        """The reply with its picture drawn; None when it cannot be (skipped, logged)."""
        if reply.drawing is None:
            return reply
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._drawing, self.engine.draw, reply)
        except Exception as exc:
            log.error("drawing %s failed: %s", reply.drawing.picture, type(exc).__name__,
                      exc_info=exc)
            return replace(reply, drawing=None) if reply.text else None

    async def _deliver_unsent(self, user_id: int, deliver: Deliver) -> None:
        unsent = await self.run(self.engine.deliveries.unsent, self.keep_for, user_id)
        await self._deliver(user_id, [u.reply for u in unsent], deliver)

    def _retry_soon(self) -> None:
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.ensure_future(self._retry())

    async def _retry(self) -> None:
        """While anyone's replies wait for the channel: try each person's again, in turn,
        under their lock (their next step waits, so nothing overtakes)."""
        while self._held:
            await asyncio.sleep(self.retry_every)
            for user_id, deliver in list(self._held.items()):
                async with self._user(user_id):
                    if user_id in self._held:
                        await self._deliver_unsent(user_id, deliver)
                if user_id in self._held:
                    break  # still down: wait before trying the others

    def _confirm(self, replies: list[Outgoing]) -> None:
        self.engine.deliveries.delivered(r.outbox_id for r in replies if r.outbox_id is not None)

    def _flush_soon(self) -> None:
        """Queue one flush of confirmations on the engine thread, unless one is queued:
        under load the next step carries them anyway, so flushes stay few."""
        if self._flush_queued:
            return
        self._flush_queued = True
        self._worker.call(self._flush).add_done_callback(self._flushed)

    def _flush(self) -> None:
        self._flush_queued = False  # before taking: a confirmation after this gets a new flush
        self.engine.deliveries.flush()

    def _flushed(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error("confirming delivered replies failed: %s",
                      type(future.exception()).__name__)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a call that touches the engine or the store on the engine thread."""
        return await self._worker.call(fn, *args)

    def _user(self, user_id: int) -> _UserLock:
        return _UserLock(self._locks, user_id)

    def active_users(self) -> int:
        """Users with an event in flight or waiting (for tests and metrics)."""
        return len(self._locks)

    def close(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()  # what it held stays in the outbox for the next start
        self._worker.close(last=self.engine.deliveries.flush)
        self._drawing.shutdown(wait=True)


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
