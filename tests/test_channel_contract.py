"""A channel is one class implementing bot.channels.base.Channel: the App runs the
lifecycle around it (open, resend, timers, close) the same for every channel."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.channels.base import Capabilities, Channel, Host
from bot.config import StorageConfig, load_config
from bot.events import Incoming, Outgoing
from bot.storage.base import StepWrites, UserRecord


class ListChannel:
    """The smallest channel: replies go into a list."""

    capabilities = Capabilities("a list", button_data_bytes=None)

    def __init__(self, app: Host, inbox: list[tuple[int, str]]) -> None:
        self.app, self.inbox = app, inbox  # what people "send": (their id here, text)
        self.log: list[str] = []

    async def open(self) -> None:
        self.log.append("open")

    async def serve(self, stop: asyncio.Event) -> None:
        events = [replace(Incoming.message(who, text), update_id=n)
                  for n, (who, text) in enumerate(self.inbox, 1)]
        for event in await self.app.receive("list", events):  # into the inbox first
            await self.app.handle(event, self.deliver)

    async def deliver(self, user_id: int, reply: Outgoing) -> bool:
        self.log.append(f"{user_id}: {reply.text[:20]}")
        return True

    async def close(self) -> None:
        self.log.append("close")


@pytest.mark.asyncio
async def test_the_app_runs_any_channels_lifecycle(tmp_path: Path) -> None:
    config = replace(load_config(None, env={}), storage=StorageConfig(str(tmp_path / "c.db")))
    app = build_app(config)
    now = datetime.now(UTC)  # a reply a stop kept from being delivered
    app.store.save_step(StepWrites(UserRecord(3), replies=[Outgoing("kept from before")]), now)
    channel: Channel = ListChannel(app, [(4, "/urge")])
    await app.run(channel, asyncio.Event())
    # The channel's own id for the person (4) became the App's id for them.
    person = await app.person("list", "4")
    assert await app.address(person) == ("list", "4")
    app.close()
    assert channel.log == ["open", "3: kept from before", f"{person}: Let's get through th",
                           "close"]
