"""Follow-ups on APScheduler: the database says what is due, the scheduler says when.

At start every pending follow-up in the database becomes a one-off job (so a restart
loses none); new ones are added as steps create them. A job only hands the engine a
timer event for that follow-up id: the engine decides, from the database, whether it is
still pending and not too late, so a job that fires twice or after /cancel does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.events import Incoming
from bot.storage.base import FollowUp, Store

log = logging.getLogger(__name__)

RunEvent = Callable[[Incoming], Awaitable[object]]


class FollowUpScheduler:
    def __init__(self, store: Store, run_event: RunEvent, clock: Clock, grace: timedelta):
        self._store = store
        self._run_event = run_event
        self._clock = clock
        self._grace = grace
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def start(self) -> int:
        """Start inside the running loop; returns how many follow-ups were pending."""
        self._loop = asyncio.get_running_loop()
        self._scheduler.start()
        pending = self._store.pending_followups()
        for followup in pending:
            self._add(followup)
        return len(pending)

    def schedule(self, followup: FollowUp) -> None:
        """Thread-safe: engine steps call this from the engine thread."""
        if self._loop is None:
            return  # not started: the next start() picks it up from the database
        self._loop.call_soon_threadsafe(self._add, followup)

    def shutdown(self) -> None:
        # AsyncIOScheduler shuts down on its loop later, so `running` stays true a moment:
        # remember we asked, or a second call would raise SchedulerNotRunningError.
        if self._scheduler.running and not self._stopping:
            self._stopping = True
            self._scheduler.shutdown(wait=False)

    def job_count(self) -> int:
        return len(self._scheduler.get_jobs())

    def _add(self, followup: FollowUp) -> None:
        run_at = max(followup.due, self._clock.now())
        self._scheduler.add_job(
            self._fire, DateTrigger(run_date=run_at, timezone=UTC), args=[followup],
            id=f"followup-{followup.id}", replace_existing=True,
            # A busy loop may start the job a little late; the engine applies the real
            # grace period against the due time, so never let APScheduler drop it.
            misfire_grace_time=int(self._grace.total_seconds()) + 3600, coalesce=True,
        )

    async def _fire(self, followup: FollowUp) -> None:
        try:
            await self._run_event(Incoming.timer(followup.user_id, followup.id))
        except Exception:
            log.exception("follow-up %s for user %s failed", followup.id, followup.user_id)
