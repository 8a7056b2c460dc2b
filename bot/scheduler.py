"""Every timed event for a person on one APScheduler: follow-ups ("how's the urge now?" in
15 minutes) and daily check-in nudges. The database says what is due; the scheduler only
says when to look, and every look runs on the engine thread, never on the event loop.

- Follow-ups: one job wakes at the earliest pending follow-up (and at least every
  POLL), fires those due as timer events, and sets itself for the next. A step that
  creates an earlier one brings the wake forward. Nothing per follow-up lives in memory,
  so a restart loses none; the engine decides, from the database, whether each is still
  pending and not too late, so one fired twice or after /cancel does nothing.
- Nudges: one job every minute claims the reminders due (bot.nudges.Nudges).
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

from bot.clock import Clock
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

    def next_wake(self) -> datetime | None:
        job = self._scheduler.get_job(WAKE)
        return None if job is None else job.next_run_time

    # -- follow-ups ---------------------------------------------------------------------

    def _created(self, due: datetime) -> None:
        if self._waking is not None:
            self._again = True  # the job looks again before it sets its next wake
            return
        upcoming = self.next_wake()
        if upcoming is None or due < upcoming:
            self._wake_at(due)

    def _wake_at(self, when: datetime) -> None:
        if self._stopping:
            return
        self._scheduler.add_job(
            self._wake, DateTrigger(run_date=max(when, self._clock.now()), timezone=UTC),
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
