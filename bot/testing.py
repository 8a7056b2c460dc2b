"""Test a dialog without reading the engine: a chat client and transcript runner.

    chat = ChatClient()                 # the dialogs/ folder, an in-memory store, a fake clock
    chat.send("/start")
    assert "Let's begin" in chat.buttons
    chat.press("Let's begin")
    chat.wait(minutes=15)               # the clock moves and due follow-ups fire

A transcript (tests/transcripts/*.yaml) is the same conversation as data:

    steps:
      - user: /start                    # or press: <label>, wait: 15m, location: [lat, lon],
                                        # nudge: now (the daily check-in falls due)
        bot: ["I'm your SMART coach"]   # each reply contains these words, in order
        buttons: [How does this work?, Is this private?, Let's begin]
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.clock import FakeClock
from bot.config import default_dialogs_dir
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dialog.registry import Registry
from bot.dialog.render import to_plain
from bot.dialog.spec import Catalog
from bot.events import Incoming, Kind, Outgoing
from bot.nlu.understanding import Understanding
from bot.storage.base import Store
from bot.storage.sqlite import SqliteStore
from bot.tools import default_registry


class ChatClient:
    def __init__(self, dialogs: str | Path | None = None, *, user_id: int = 1,
                 store: Store | None = None, clock: FakeClock | None = None,
                 registry: Registry | None = None, understanding: Understanding | None = None,
                 engine: Engine | None = None, language: str | None = None):
        if engine is None:
            folder = Path(dialogs or default_dialogs_dir())
            catalog = load_catalog(folder, registry) if registry else _default_catalog(
                folder, _stamp(folder))
            registry = registry or default_registry()
            if understanding is not None:  # e.g. a fake, to test routing on its own
                catalog = replace(catalog, understanding=understanding)
            engine = Engine(catalog, registry,
                            store if store is not None else SqliteStore(":memory:"),
                            clock or FakeClock())
        self.engine = engine
        self.clock: FakeClock = engine.clock  # type: ignore[assignment]
        self.user_id = user_id
        # What the person's app reports with each message ("es-MX"), as Telegram does.
        self.language = language
        self.replies: list[Outgoing] = []  # the latest event's replies
        self.history: list[Outgoing] = []  # every reply so far

    def as_user(self, user_id: int) -> ChatClient:
        """Another person talking to the same engine."""
        return ChatClient(engine=self.engine, user_id=user_id, language=self.language)

    # -- acting -----------------------------------------------------------------------------

    def send(self, text: str) -> list[Outgoing]:
        return self._handle(Incoming.message(self.user_id, text))

    def press(self, label: str) -> list[Outgoing]:
        """Press a button by its label: on the newest message that has it, as a person
        scrolling up would (an old message's button is then handled as stale)."""
        for reply in reversed(self.history):
            for button in reply.buttons:
                if button.label == label:
                    return self._handle(Incoming.button(self.user_id, button.data))
        raise AssertionError(f"no button {label!r}; the buttons are {self.buttons}")

    def press_data(self, data: str) -> list[Outgoing]:
        """Send raw button data, e.g. an old message's button or forged data."""
        return self._handle(Incoming.button(self.user_id, data))

    def nudge(self) -> list[Outgoing]:
        """The daily check-in falls due, as the nudge scheduler would deliver it."""
        return self._handle(Incoming.nudge(self.user_id))

    def share_location(self, latitude: float, longitude: float) -> list[Outgoing]:
        return self._handle(Incoming.shared_location(self.user_id, latitude, longitude))

    def wait(self, **delta: float) -> list[Outgoing]:
        """Move the clock on; every follow-up now due fires, as the scheduler would."""
        self.clock.advance(timedelta(**delta))
        replies: list[Outgoing] = []
        for followup in self.engine.store.pending_followups(until=self.clock.now()):
            if followup.user_id == self.user_id:
                replies += map(self.engine.draw,
                               self.engine.handle(Incoming.timer(self.user_id, followup.id)))
        self.replies = replies
        self.history += replies
        return replies

    def _handle(self, event: Incoming) -> list[Outgoing]:
        if self.language and event.kind not in (Kind.TIMER, Kind.NUDGE):
            event = replace(event, language=self.language)
        # Pictures drawn, as the dispatcher does before sending.
        self.replies = [self.engine.draw(r) for r in self.engine.handle(event)]
        self.history += self.replies
        return self.replies

    # -- looking ----------------------------------------------------------------------------

    @property
    def texts(self) -> list[str]:
        """The latest replies as plain text."""
        return [to_plain(r.text) for r in self.replies if r.text]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[str]:
        return [b.label for r in self.replies for b in r.buttons]

    @property
    def position(self) -> tuple[str | None, str | None]:
        user = self.engine.store.load_user(self.user_id)
        return user.dialog, user.state

    @property
    def answers(self) -> dict[str, Any]:
        return self.engine.store.load_user(self.user_id).answers


@functools.lru_cache(maxsize=8)
def _default_catalog(folder: Path, stamp: tuple[tuple[str, int], ...]) -> Catalog:
    """A folder's catalog with the default registry, loaded once while its files stay as
    they are (`stamp`): transcripts and tests each start a chat on the same dialogs."""
    return load_catalog(folder, default_registry())


def _stamp(folder: Path) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*")
                        if p.is_file()))
