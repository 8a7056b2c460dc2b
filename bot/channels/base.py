"""What a channel is to the App: what its messages can carry, how it delivers a reply, and
how it opens and closes. The App runs the lifecycle around it once for every channel
(App.run: open, load what steps need, resend what a stop kept, start the timers, serve;
then stop the timers and close), so a new channel is one file implementing this.

Channels turn their own updates into Incoming events and hand them to the App (receive,
handle); nothing here knows Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from bot.clock import Clock
from bot.dialog.spec import Catalog
from bot.dispatch import Deliver
from bot.events import Incoming, Outgoing


@dataclass(frozen=True)
class Capabilities:
    """What a channel's messages can carry. The dialog validator checks button data against
    the strictest channel configured, so a dialog that fits the terminal but not Telegram
    is caught before anyone taps it."""

    name: str
    button_data_bytes: int | None = None  # the most a button's data may take (None: any)
    markup: bool = True  # bold and italic are shown
    location: bool = True  # a person can share a location
    photo: bool = True
    documents: bool = True


class Channel(Protocol):
    capabilities: Capabilities

    async def open(self) -> int | None:
        """Connect, before anything is delivered (set the command menu, say hello...).
        Returns the one person the channel serves, if it serves only one (the terminal
        chat): only their replies kept by a stop are resent through it."""
        ...

    async def serve(self, stop: asyncio.Event) -> None:
        """Take people's messages (App.receive, App.handle) until `stop` is set, or the
        channel ends by itself (the terminal chat's /quit); then finish what is in hand."""
        ...

    async def deliver(self, user_id: int, reply: Outgoing) -> bool:
        """Send one reply; False if the rest of its step cannot go either (blocked)."""
        ...

    async def close(self) -> None:
        """Finish what is in hand and disconnect."""
        ...


class Host(Protocol):
    """What a channel may ask of the App (bot.app.App): never its store or its engine."""

    catalog: Catalog  # the messages and the command menu
    clock: Clock

    @property
    def data_dir(self) -> Path:
        """Where a channel may keep a person's files (the terminal chat's exports)."""
        ...

    def serving(self, channel: Channel) -> AbstractAsyncContextManager[tuple[int, int, int]]:
        ...

    async def run(self, channel: Channel, stop: asyncio.Event) -> None: ...

    async def receive(self, channel: str, events: list[Incoming]) -> list[Incoming]: ...

    async def person(self, channel: str, external: str) -> int: ...

    async def address(self, user_id: int) -> tuple[str, str] | None: ...

    async def received(self) -> list[Incoming]: ...

    async def handle(self, event: Incoming, deliver: Deliver) -> list[Outgoing]: ...

    async def resume(self, user_id: int) -> list[Outgoing]: ...

    async def known(self, user_id: int) -> bool: ...

    async def wait(self, delta: timedelta) -> int:
        """Move the clock forward (the terminal chat's /wait only: BotError elsewhere)."""
        ...


def button_limit(channels: Iterable[Capabilities]) -> tuple[str, int] | None:
    """The channel allowing a button's data the fewest bytes, and how many (None: any)."""
    limits = [(c.button_data_bytes, c.name) for c in channels if c.button_data_bytes]
    return (min(limits)[1], min(limits)[0]) if limits else None
