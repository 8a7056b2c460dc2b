"""The composition root: wire dialogs, store, engine, dispatcher and follow-ups.

build_app has no side effects beyond opening the database it is told to; channels
(console, Telegram, tests) call it and then drive app.dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot import places
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dialog.registry import Registry, default_registry
from bot.dialog.spec import Catalog
from bot.dispatch import Deliver, Dispatcher
from bot.meetings.feeds import MeetingSources
from bot.meetings.load import EXAMPLE
from bot.meetings.search import MeetingIndex
from bot.nudges import NudgeScheduler
from bot.safety.lines import load_lines
from bot.scheduler import FollowUpScheduler
from bot.storage.base import Store
from bot.storage.sqlite import SqliteStore

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    catalog: Catalog
    store: Store
    engine: Engine
    dispatcher: Dispatcher
    clock: Clock
    scheduler: FollowUpScheduler | None = field(default=None)
    nudges: NudgeScheduler | None = field(default=None)
    # The meeting lists and the index they fill, for refreshing feeds given by address.
    meetings: tuple[MeetingSources, MeetingIndex] | None = field(default=None)
    _refreshing: asyncio.Task[None] | None = field(default=None, repr=False)

    def start_followups(self, deliver: Deliver) -> int:
        """Start running follow-ups (inside the event loop); returns how many were pending."""
        scheduler = FollowUpScheduler(
            self.store, lambda event: self.dispatcher.process(event, deliver), self.clock,
            self.engine.followup_grace)
        self.engine.timers = scheduler
        self.scheduler = scheduler
        return scheduler.start()

    async def start_schedules(self, deliver: Deliver) -> tuple[int, int]:
        """Follow-ups and daily check-in nudges (inside the event loop); returns how many of
        each were waiting."""
        followups = self.start_followups(deliver)
        self.nudges = NudgeScheduler(
            self.store, self.dispatcher.process, deliver, self.dispatcher.run, self.clock,
            timedelta(minutes=self.config.checkins.grace_minutes))
        if self.meetings is not None and self.meetings[0].feeds:
            self._refreshing = asyncio.ensure_future(self._refresh_feeds())
        return followups, await self.nudges.start()

    async def _refresh_feeds(self) -> None:
        """Every meetings.refresh_minutes: fetch the feeds (on a thread of their own, never
        the engine's) and, when one changed, swap in the new list."""
        assert self.meetings is not None
        sources, index = self.meetings
        while True:
            await asyncio.sleep(self.config.meetings.refresh_minutes * 60)
            if await asyncio.to_thread(sources.refresh):
                index.update(await asyncio.to_thread(sources.load))
            await asyncio.to_thread(index.prepare, self.clock.now())

    def prepare(self) -> None:
        """Load now what a step would otherwise load on first use (the time-zone map and
        the gazetteer: about a second; the online meetings' times), before anyone is served."""
        places.prepare()
        if self.meetings is not None:
            self.meetings[1].prepare(self.clock.now())

    async def resend_unsent(self, deliver: Deliver, user_id: int | None = None) -> int:
        """At start, before anything new: the replies a crash kept from being delivered.
        Those older than the follow-up grace period are dropped as out of context."""
        return await self.dispatcher.resend_unsent(deliver, self.dispatcher.keep_for, user_id)

    async def stop_schedules(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
        if self.nudges:
            await self.nudges.shutdown()
        if self.scheduler:
            self.scheduler.shutdown()

    def close(self) -> None:
        if self.scheduler:
            self.scheduler.shutdown()
        self.dispatcher.close()
        self.store.close()


def build_app(config: Config, *, store: Store | None = None, clock: Clock | None = None,
              registry: Registry | None = None) -> App:
    """Raises DialogError if the dialogs are invalid, before touching the database."""
    registry_built = registry is None
    if registry is None:
        meeting_sources = MeetingSources(config.meetings.sources or (str(EXAMPLE),),
                                         config.db_path.parent / "feeds", config.timezone)
        if not config.meetings.sources:
            log.warning("no meeting list (meetings.sources): the made-up example meetings "
                        "are shown, said to be examples; add yours (README: \"Using your "
                        "intergroup's feed\")")
        if not config.helplines:
            log.warning("no helpline (helplines): /helpline says there is none and gives "
                        "the crisis lines")
        meeting_sources.refresh()  # feeds fetched before anyone is served
        meetings = MeetingIndex(meeting_sources.load())
        lines = load_lines(override=Path(config.crisis.lines) if config.crisis.lines else None)
        registry = default_registry(config.crisis, config.timezone,
                                    meetings, config.helplines,
                                    config.meetings.country, lines)
    catalog = load_catalog(config.dialogs_path, registry)
    store = store if store is not None else SqliteStore(config.db_path)
    clock = clock or SystemClock()
    engine = Engine(catalog, registry, store, clock, admins=frozenset(config.admin_ids),
                    followup_grace=timedelta(minutes=config.followups.grace_minutes),
                    careful=timedelta(hours=config.crisis.careful_hours))
    dispatcher = Dispatcher(engine, keep_for=timedelta(minutes=config.followups.grace_minutes))
    return App(config, catalog, store, engine, dispatcher, clock,
               meetings=(meeting_sources, meetings) if registry_built else None)
