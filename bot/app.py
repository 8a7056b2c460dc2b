"""The composition root: wire dialogs, store, engine, dispatcher and follow-ups.

build_app has no side effects beyond opening the database it is told to; channels
(console, Telegram, tests) call it and then drive app.dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from bot import places
from bot.channels.base import Channel, button_limit
from bot.channels.console import ConsoleChat
from bot.channels.telegram.limits import CAPABILITIES as TELEGRAM
from bot.clock import Clock, OffsetClock, SystemClock
from bot.config import Config
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dialog.registry import Registry
from bot.dialog.spec import Catalog
from bot.dispatch import Deliver, Dispatcher
from bot.errors import BotError
from bot.events import Incoming, Outgoing
from bot.meetings.feeds import MeetingSources
from bot.meetings.load import EXAMPLE
from bot.meetings.search import MeetingIndex
from bot.nudges import Nudges
from bot.safety.lines import load_lines
from bot.scheduler import Timers
from bot.storage.base import Store
from bot.storage.sqlite import SqliteStore
from bot.tools import default_registry

log = logging.getLogger(__name__)

# Every channel the dialogs must fit: the validator checks them against the strictest.
CHANNELS = (ConsoleChat.capabilities, TELEGRAM)


@dataclass
class App:
    config: Config
    catalog: Catalog
    store: Store
    engine: Engine
    dispatcher: Dispatcher
    clock: Clock
    timers: Timers | None = field(default=None)  # follow-ups and nudges, one scheduler
    # The meeting lists and the index they fill, for refreshing feeds given by address.
    meetings: tuple[MeetingSources, MeetingIndex] | None = field(default=None)
    _refreshing: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def nudges(self) -> Nudges | None:
        return self.timers.nudges if self.timers else None

    async def start_schedules(self, deliver: Deliver, *, nudges: bool = True) -> tuple[int, int]:
        """Follow-ups and daily check-in nudges, on one scheduler (inside the event loop);
        returns how many of each were waiting."""
        timers = Timers(
            self.store, lambda event: self.dispatcher.process(event, deliver),
            self.dispatcher.run, self.clock, self.engine.followup_grace,
            Nudges(self.store, self.dispatcher.process, deliver, self.dispatcher.run,
                   self.clock, timedelta(minutes=self.config.checkins.grace_minutes))
            if nudges else None)
        self.engine.timers = timers
        self.timers = timers
        if self.meetings is not None and self.meetings[0].feeds:
            self._refreshing = asyncio.ensure_future(self._refresh_feeds())
        return await timers.start()

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

    async def run(self, channel: Channel, stop: asyncio.Event) -> None:
        """Serve a channel until `stop` (or until it ends by itself), in the one lifecycle
        every channel has (`serving`)."""
        async with self.serving(channel):
            await channel.serve(stop)

    @contextlib.asynccontextmanager
    async def serving(self, channel: Channel) -> AsyncIterator[tuple[int, int, int]]:
        """The one lifecycle of every channel: open it; load what steps need (on the
        engine thread, while the channel starts taking messages: a first step waits for
        it there); resend what a stop kept from being delivered (for a channel of one
        person, theirs only); start follow-ups and nudges; yield (resent, follow-ups,
        nudges); then stop the timers, finishing what they handed over, and close the
        channel. The App itself stays open: its owner closes it."""
        only_user = await channel.open()
        preparing = asyncio.ensure_future(self.dispatcher.run(self.prepare))
        try:
            resent = await self.resend_unsent(channel.deliver, only_user)
            followups, nudges = await self.start_schedules(channel.deliver)
            log.info("%s: %d replies resent after a stop, %d follow-ups pending, %d "
                     "check-in nudges queued", channel.capabilities.name, resent, followups,
                     nudges)
            yield resent, followups, nudges
        finally:
            await self.stop_schedules()
            await preparing
            await channel.close()

    async def receive(self, channel: str, events: list[Incoming]) -> list[Incoming]:
        """A channel's events, each with the channel's own id of the person as user_id:
        saved to the inbox (by the person's id here) before the channel confirms them, so
        a crash loses none; returns those new to it, to handle."""
        def save() -> list[Incoming]:
            ours = [replace(e, user_id=self.store.person(channel, str(e.user_id)))
                    for e in events]
            return self.store.receive(ours, self.clock.now())
        return list(await self.dispatcher.run(save))

    async def person(self, channel: str, external: str) -> int:
        """The id of the person the channel knows as `external` (new: a new id)."""
        return int(await self.dispatcher.run(self.store.person, channel, external))

    async def address(self, user_id: int) -> tuple[str, str] | None:
        """(channel, the channel's id) of a person; None once they used /forget."""
        found: tuple[str, str] | None = await self.dispatcher.run(self.store.address, user_id)
        return found

    async def received(self) -> list[Incoming]:
        """Events saved but not handled when the bot last stopped: handle them first."""
        return list(await self.dispatcher.run(self.store.inbox))

    async def handle(self, event: Incoming, deliver: Deliver) -> list[Outgoing]:
        """One event's step and the delivery of its replies, in its person's order."""
        return await self.dispatcher.process(event, deliver)

    async def resume(self, user_id: int) -> list[Outgoing]:
        """The person's current step again (the terminal chat, starting)."""
        return list(await self.dispatcher.run(self.engine.resume, user_id))

    async def known(self, user_id: int) -> bool:
        """Whether anything is stored about the person (false after /forget)."""
        return bool((await self.dispatcher.run(self.store.load_user, user_id)).known)

    async def wait(self, delta: timedelta) -> int:
        """The terminal chat's /wait: move the clock `delta` forward, and what falls due in
        that time (check-backs, nudges) comes now, in order, as it would have. Only an App
        built on an OffsetClock (the terminal chat's) can; the Telegram bot's runs on the
        system's time, and this raises BotError there. Returns how many came."""
        if not isinstance(self.clock, OffsetClock) or self.timers is None:
            raise BotError("only the terminal chat's clock can be moved forward")
        return await self.timers.advance(delta)

    @property
    def data_dir(self) -> Path:
        return self.config.db_path.resolve().parent

    async def stop_schedules(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
        if self.timers:
            await self.timers.shutdown()

    def close(self) -> None:
        if self.timers:
            self.timers.halt()  # in case stop_schedules was not awaited
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
    catalog = load_catalog(config.dialogs_path, registry, button_limit(CHANNELS))
    store = store if store is not None else SqliteStore(config.db_path)
    clock = clock or SystemClock()
    # admin_ids are Telegram user ids: the people they are.
    admins = frozenset(store.person("telegram", str(admin)) for admin in config.admin_ids)
    engine = Engine(catalog, registry, store, clock, admins=admins,
                    followup_grace=timedelta(minutes=config.followups.grace_minutes),
                    careful=timedelta(hours=config.crisis.careful_hours))
    dispatcher = Dispatcher(engine, keep_for=timedelta(minutes=config.followups.grace_minutes))
    return App(config, catalog, store, engine, dispatcher, clock,
               meetings=(meeting_sources, meetings) if registry_built else None)
