"""The outbox: a step's replies survive a crash between saving the step and sending them,
and a reply confirmed delivered is never sent again."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.clock import FakeClock
from bot.config import DialogsConfig, StorageConfig, load_config
from bot.events import Incoming, Outgoing

THREE = """\
dialog: three
title: Three messages
command: three
description: Says three things
start: one
states:
  one:
    say: one
    next: two
  two:
    say: two
    next: three
  three:
    say: three
    end: true
"""


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs, no except clause sees it."""


class Recorder:
    def __init__(self, kill_at: str | None = None, refuse: str | None = None):
        self.got: list[tuple[int, str]] = []
        self.kill_at, self.refuse = kill_at, refuse

    async def __call__(self, user_id: int, reply: Outgoing) -> bool:
        if reply.text == self.kill_at:
            raise Killed
        self.got.append((user_id, reply.text))
        return reply.text != self.refuse


@pytest.fixture
def make_app(write_dialogs, tmp_path: Path):
    folder = write_dialogs({"three.yaml": THREE})
    config = load_config(None, env={})
    config = replace(config, dialogs=DialogsConfig(str(folder)),
                     storage=StorageConfig(str(tmp_path / "c.db")))
    clock = FakeClock(datetime.now(UTC))  # the store expires handled update ids by real time
    opened: list[App] = []

    def make() -> App:
        app = build_app(config, clock=clock)
        opened.append(app)
        return app

    yield make, clock
    for app in opened:
        app.close()


async def settle(app: App) -> None:
    """Let queued confirmations reach the database (a real crash may come before)."""
    await app.dispatcher.run(app.engine.deliveries.flush)


@pytest.mark.asyncio
async def test_a_crash_mid_step_resends_exactly_what_was_not_delivered(make_app) -> None:
    make, _ = make_app
    first = make()
    crash = Recorder(kill_at="two")
    with pytest.raises(Killed):
        await first.dispatcher.process(Incoming.message(1, "/three"), crash)
    await settle(first)
    assert crash.got == [(1, "one")]

    restarted = make()  # the first is never closed: it was killed
    after = Recorder()
    assert await restarted.resend_unsent(after) == 2
    assert after.got == [(1, "two"), (1, "three")]
    await settle(restarted)
    assert await restarted.resend_unsent(Recorder()) == 0  # confirmed: never again


@pytest.mark.asyncio
async def test_a_redelivered_update_gets_its_saved_replies_once(make_app) -> None:
    make, _ = make_app
    first = make()
    # Saved, then killed before anything went out: Telegram will deliver the update again.
    saved = await first.dispatcher.run(first.engine.handle,
                                       replace(Incoming.message(1, "/three"), update_id=77))
    assert [r.text for r in saved] == ["one", "two", "three"]

    restarted = make()
    got = Recorder()
    await restarted.resend_unsent(got)
    again = await restarted.dispatcher.process(
        replace(Incoming.message(1, "/three"), update_id=77), got)
    assert again == []  # the step is not redone ...
    assert got.got == [(1, "one"), (1, "two"), (1, "three")]  # ... and was answered once


@pytest.mark.asyncio
async def test_what_cannot_be_delivered_is_dropped_not_resent(make_app) -> None:
    make, _ = make_app
    app = make()
    refused = Recorder(refuse="one")  # e.g. the person blocked the bot
    await app.dispatcher.process(Incoming.message(1, "/three"), refused)
    assert refused.got == [(1, "one")]  # the rest were not tried
    await settle(app)
    assert app.store.unsent() == []


@pytest.mark.asyncio
async def test_old_replies_are_dropped_and_the_console_takes_only_its_own(make_app) -> None:
    make, clock = make_app
    app = make()
    for user in (1, 2):
        await app.dispatcher.run(app.engine.handle, Incoming.message(user, "/three"))
    mine = Recorder()
    assert await app.resend_unsent(mine, user_id=2) == 3
    assert {user for user, _ in mine.got} == {2}
    await settle(app)

    clock.advance(timedelta(minutes=app.config.followups.grace_minutes + 1))
    late = Recorder()
    assert await app.resend_unsent(late) == 0  # out of context by now
    assert late.got == [] and app.store.unsent() == []


@pytest.mark.asyncio
async def test_confirmations_under_load_leave_the_outbox_empty(make_app) -> None:
    make, _ = make_app
    app = make()

    async def slow(user_id: int, reply: Outgoing) -> bool:
        await asyncio.sleep(0.001)
        return True

    await asyncio.gather(*(app.dispatcher.process(Incoming.message(u, "/three"), slow)
                           for u in range(1, 40)))
    await settle(app)
    assert app.store.unsent() == []
