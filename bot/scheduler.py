"""Every timed event for a person on one APScheduler: follow-ups ("how's the urge now?" in
15 minutes) and daily check-in nudges. The database says what is due; the scheduler only
says when to look, and every look runs on the engine thread, never on the event loop.

- Follow-ups: one job wakes at the earliest pending follow-up (and at least every
  POLL), fires those due as timer events, and sets itself for the next. A step that
  creates an earlier one brings the wake forward. Nothing per follow-up lives in memory,
  so a restart loses none; the engine decides, from the database, whether each is still
  pending and not too late, so one fired twice or after /cancel does nothing.
- Nudges: one job every minute claims the reminders due (bot.nudges.Nudges).
- The terminal chat's /wait moves its clock forward (bot.clock.OffsetClock): `advance`
  hands over what falls due in that time, in order, each with the clock at its own due
  time, exactly as if the time had passed. APScheduler itself waits by the system's time,
  so every wake is set by how far ahead it is on the bot's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock, OffsetClock, system_time
from bot.events import Incoming
from bot.nudges import Nudges
from bot.storage.base import FollowUp, TimerRows

log = logging.getLogger(__name__)

RunEvent = Callable[[Incoming], Awaitable[object]]  # the dispatcher, for one person's event
RunStore = Callable[..., Awaitable[Any]]  # a store call on the engine thread
POLL = timedelta(minutes=1)  # the longest the follow-up job sleeps: a safety net
WAKE = "followups"


class Timers:
    def __init__(self, store: TimerRows, run_event: RunEvent, run_store: RunStore, clock: Clock,
                 grace: timedelta, nudges: Nudges | None = None):
        self._store = store
        self._run_event = run_event
        self._run_store = run_store
        self._clock = clock
        self._grace = grace  # a follow-up missed by more than this is skipped (by the engine)
        self.nudges = nudges
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waking: asyncio.Future[None] | None = None  # the follow-up job, while it looks
        self._again = False  # ... and a follow-up was created meanwhile: look again
        self._firing: set[int] = set()  # follow-ups handed to the engine, not yet done
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> tuple[int, int]:
        """Inside the running loop: returns (follow-ups pending, nudges queued) at start."""
        self._loop = asyncio.get_running_loop()
        pending = await self._run_store(self._store.pending_followups)
        self._scheduler.start()
        self._wake_at(self._clock.now())
        queued = 0
        if self.nudges is not None:
            queued = await self.nudges.start()
            self._scheduler.add_job(self.nudges.tick, CronTrigger(second=0, timezone=UTC),
                                    id="nudges", coalesce=True, max_instances=1,
                                    misfire_grace_time=30)
        return len(pending), queued

    def schedule(self, followup: FollowUp) -> None:
        """A step created a follow-up (called on the engine thread): wake for it in time."""
        if self._loop is not None and not self._stopping:  # else: the next start finds it
            self._loop.call_soon_threadsafe(self._created, followup.due)

    def halt(self) -> None:
        """Stop the jobs (no new event is handed over)."""
        # AsyncIOScheduler shuts down on its loop later, so `running` stays true a moment:
        # remember we asked, or a second call would raise SchedulerNotRunningError.
        if not self._stopping:
            self._stopping = True
            if self._scheduler.running:
                self._scheduler.shutdown(wait=False)

    async def shutdown(self) -> None:
        """Stop the jobs, then wait for the events they handed over (their steps and
        replies), so nothing runs after the database closes."""
        self.halt()
        if self._waking is not None:  # let a look at the database in progress finish
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._waking)
        if self.nudges is not None:
            await self.nudges.shutdown()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def advance(self, delta: timedelta) -> int:
        """Move the clock `delta` forward (the terminal chat's /wait; only an OffsetClock
        moves), handing over every follow-up and nudge due in that time in the order they
        fall due, each with the clock at its due time, and waiting for their steps and
        replies: a check-back's own check-back comes too, and none is too late for its
        grace period. Returns how many were handed over."""
        clock = self._clock
        if not isinstance(clock, OffsetClock):
            raise TypeError("only an OffsetClock (the terminal chat's) can be moved forward")
        target = clock.offset + delta  # exactly `delta` on, however long the steps take

        def until() -> datetime:
            return clock.now() - clock.offset + target

        handed = await self._hand_over_due()
        while (due := await self._next_due()) is not None and due <= until():
            clock.move_to(due)
            handed += await self._hand_over_due()
        clock.offset = max(clock.offset, target)
        handed += await self._hand_over_due()
        # The wake set before was by the clock before it moved: set it again.
        upcoming = await self._run_store(self._store.next_followup_due, clock.now())
        now = clock.now()
        self._wake_at(min(upcoming, now + POLL) if upcoming else now + POLL)
        return handed

    async def _next_due(self) -> datetime | None:
        now = self._clock.now()
        times = [await self._run_store(self._store.next_followup_due, now)]
        if self.nudges is not None:
            times.append(await self._run_store(self._store.next_nudge_due, now))
        return min((t for t in times if t is not None), default=None)

    async def _hand_over_due(self) -> int:
        """Everything due by now, handed over, and its steps and replies done."""
        followups = [f for f in await self._run_store(self._store.pending_followups,
                                                     self._clock.now())
                     if f.id not in self._firing]
        for followup in followups:
            self._fire(followup)
        nudges = await self.nudges.tick() if self.nudges is not None else 0
        await asyncio.gather(*self._tasks)  # those the wake job fired too
        if self.nudges is not None:
            await self.nudges.drain()
        return len(followups) + nudges

    def next_wake(self) -> datetime | None:
        """When the follow-up job wakes next, by the system's time."""
        job = self._scheduler.get_job(WAKE)
        return None if job is None else job.next_run_time

    # -- follow-ups ---------------------------------------------------------------------

    def _created(self, due: datetime) -> None:
        if self._waking is not None:
            self._again = True  # the job looks again before it sets its next wake
            return
        upcoming = self.next_wake()
        if upcoming is None or system_time(self._clock, due) < upcoming:
            self._wake_at(due)

    def _wake_at(self, when: datetime) -> None:
        if self._stopping:
            return
        now = self._clock.now()
        self._scheduler.add_job(
            self._wake, DateTrigger(run_date=system_time(self._clock, max(when, now)),
                                    timezone=UTC),
            id=WAKE, replace_existing=True, coalesce=True, max_instances=1,
            # A busy loop may start the job a little late; the engine applies the real
            # grace period against each due time, so never let APScheduler drop it.
            misfire_grace_time=int(self._grace.total_seconds()) + 3600)

    async def _wake(self) -> None:
        self._waking = self._loop.create_future() if self._loop else None
        try:
            while True:
                self._again = False
                now = self._clock.now()
                for followup in await self._run_store(self._store.pending_followups, now):
                    if followup.id not in self._firing:
                        self._fire(followup)
                upcoming = await self._run_store(self._store.next_followup_due, now)
                if not self._again:
                    break
        except Exception:
            log.exception("looking for follow-ups due failed; trying again shortly")
            upcoming = None
        finally:
            if self._waking is not None:
                self._waking.set_result(None)
            self._waking = None
        now = self._clock.now()
        self._wake_at(min(upcoming, now + POLL) if upcoming else now + POLL)

    def _fire(self, followup: FollowUp) -> None:
        self._firing.add(followup.id)
        task = asyncio.ensure_future(self._run(followup))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, followup: FollowUp) -> None:
        try:
            await self._run_event(Incoming.timer(followup.user_id, followup.id))
        except Exception:
            log.exception("follow-up %s for user %s failed", followup.id, followup.user_id)
        finally:
            self._firing.discard(followup.id)
