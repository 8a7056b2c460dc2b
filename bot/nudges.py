"""Daily check-in nudges: the database says who is due, the one scheduler's job
(bot.scheduler.Timers) asks every minute, and a queue sends them.

Nothing per person lives in memory or in APScheduler: at start-up and every minute the job
claims, in one transaction, the reminders now due (each moves on to its next occurrence), and
queues them. The nudge's step drops the claim in the transaction that puts its message in
the outbox, which delivers it even across a crash (bot.dispatch); a claim with no step yet
(the bot stopped in between) is sent at the next start, if still within the grace period.
So a restart before, at or after the due minute neither loses nor repeats it.
Thousands due in the same minute are spread over the following minutes by the channel's
limit (Telegram: PriorityLimiter), where a nudge goes after every reply to someone writing,
crisis or not: nudges take what people's own conversations leave, and all of it when nobody
writes. Nudges do not pace themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.dispatch import Deliver
from bot.events import Incoming
from bot.reminders import next_due, occurrence
from bot.storage.base import Nudge, Reminder, TimerRows

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 50  # nudges whose step has run, waiting for their turn to be sent
CLAIM_CHUNK = 500  # reminders claimed per transaction (about 11 ms)
Process = Callable[[Incoming, Deliver], Awaitable[object]]  # Dispatcher.process
RunStore = Callable[..., Awaitable[Any]]


def schedule(reminder: Reminder, now: datetime) -> tuple[datetime, datetime]:
    """(the latest occurrence due by now, the next one after now) for a due reminder. After a
    long stop the latest is today's, not the one stored days ago."""
    upcoming = next_due(reminder.local_time, reminder.zone, now)
    day = upcoming.astimezone(ZoneInfo(reminder.zone)).date()
    return occurrence(day - timedelta(days=1), reminder.local_time, reminder.zone), upcoming


class Nudges:
    def __init__(self, store: TimerRows, process: Process, deliver: Deliver, run_store: RunStore,
                 clock: Clock, grace: timedelta):
        self._store = store
        self._process = process
        self._deliver = deliver
        self._run_store = run_store
        self._clock = clock
        self._grace = grace
        self._queue: asyncio.Queue[Nudge] = asyncio.Queue()
        self._queued: set[int] = set()
        self._sender: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()  # nudges whose step is under way
        self.sent = 0

    async def start(self) -> int:
        """Inside the running loop: resend what a stop left claimed, and claim what is due
        now (then Timers ticks every minute). Returns how many nudges were queued."""
        self._sender = asyncio.create_task(self._send_forever())
        for nudge in await self._run_store(self._store.claimed_nudges):
            if self._clock.now() - nudge.due <= self._grace:
                self._enqueue(nudge)
            else:
                await self._run_store(self._store.nudge_sent, nudge.user_id)  # too late now
        return len(self._queued) + await self.tick()

    async def tick(self) -> int:
        """Claim everyone due by now and queue them; returns how many. In chunks, each its
        own call on the engine thread: 10,000 in one transaction held everyone's steps up
        for 220 ms."""
        now, count = self._clock.now(), 0
        while True:
            claimed = await self._run_store(self._store.claim_nudges, now, self._grace,
                                            schedule, CLAIM_CHUNK)
            for nudge in claimed:
                self._enqueue(nudge)
            count += len(claimed)
            if len(claimed) < CLAIM_CHUNK:  # (a chunk of late ones left ends it early:
                break  # the rest are claimed at the next minute's tick)
        if count:
            log.info("%d check-in nudges due", count)
        return count

    async def drain(self) -> None:
        """Wait until everything queued has been sent (for tests and shutdown)."""
        await self._queue.join()

    async def shutdown(self) -> None:
        """Stop sending, and wait for the nudges under way: none may run after the database
        closes (their claims stay, and are sent at the next start)."""
        tasks = [t for t in (self._sender, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _enqueue(self, nudge: Nudge) -> None:
        if nudge.user_id not in self._queued:
            self._queued.add(nudge.user_id)
            self._queue.put_nowait(nudge)

    async def _send_forever(self) -> None:
        """Keep MAX_IN_FLIGHT nudges going: their steps run ahead, and each message waits
        for its turn under the channel's limit, so a slow answer from Telegram does not
        slow the rest."""
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        while True:
            nudge = await self._queue.get()
            await in_flight.acquire()
            task = asyncio.create_task(self._send_one(nudge, in_flight))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send_one(self, nudge: Nudge, in_flight: asyncio.Semaphore) -> None:
        try:
            # The nudge's step drops the claim in its own transaction, its reply going
            # to the outbox: from then on the dispatcher, not the claim, sees it delivered.
            await self._process(Incoming.nudge(nudge.user_id), self._deliver)
            self.sent += 1
        except Exception:
            log.exception("the check-in nudge for user %s failed", nudge.user_id)
        finally:
            in_flight.release()
            self._queued.discard(nudge.user_id)
            self._queue.task_done()
