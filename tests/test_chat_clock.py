"""The terminal chat's pieces, in-process and quick: its clock that /wait moves forward
(follow-ups and nudges due in that time come at once, in order, each at its own time, and
only there: the Telegram bot's clock cannot be moved), bold and italic as ANSI only where a
terminal shows them. tests/test_console.py drives the real command for each of these."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.channels.console import styled, to_ansi, words
from bot.clock import OffsetClock
from bot.config import DialogsConfig, StorageConfig, load_config
from bot.errors import BotError
from bot.events import Incoming, Outgoing
from bot.storage.base import ReminderChange, StepWrites, UserRecord

# A check-back in 15 minutes whose own check-back comes an hour later, and the daily nudge.
CHAIN = """\
dialog: nap
title: Check back twice
command: nap
description: Check back twice
start: ask
states:
  ask:
    say: I'll check back in 15 minutes.
    do: [{follow_up: {after: 15m, go: first}}]
    end: true
  first:
    say: 15 minutes on.
    do: [{follow_up: {after: 1h, go: second}}]
    end: true
  second:
    say: An hour after that.
    end: true
"""
NUDGE = """\
dialog: nudge
title: Check-in reminder
start: hello
states:
  hello:
    say: Time for your daily check-in.
    end: true
"""


def app_in(tmp_path: Path, folder: Path, clock: OffsetClock | None = None):  # type: ignore[no-untyped-def]
    config = load_config(None, env={})
    config = replace(config, storage=StorageConfig(str(tmp_path / "c.db")),
                     dialogs=DialogsConfig(str(folder)))
    return build_app(config, clock=clock)


@pytest.mark.asyncio
async def test_wait_brings_what_falls_due_in_order_each_at_its_time(
        write_dialogs, tmp_path: Path) -> None:
    clock = OffsetClock()
    app = app_in(tmp_path, write_dialogs({"nap.yaml": CHAIN, "nudge.yaml": NUDGE}), clock)
    got: list[tuple[str, timedelta]] = []
    start = clock.now()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        got.append((reply.text, clock.now() - start))
        return True

    await app.start_schedules(deliver)
    await app.handle(Incoming.message(1, "/nap"), deliver)
    nudge_at = (start + timedelta(minutes=30)).replace(microsecond=0)
    app.store.save_step(StepWrites(UserRecord(1), reminder=ReminderChange(
        f"{nudge_at:%H:%M}", "UTC", nudge_at.replace(second=0))), start)
    got.clear()

    assert await app.wait(timedelta(minutes=10)) == 0
    assert got == []
    # Straight to two hours on, the first check-back would be 1 h 45 min late: past its
    # grace period (60 minutes), so never sent. Each comes at its own time instead.
    assert await app.wait(timedelta(hours=2)) == 3
    assert [text for text, _ in got] == [
        "15 minutes on.", "Time for your daily check-in.", "An hour after that."]
    at = [when for _, when in got]
    assert abs(at[0] - timedelta(minutes=15)) < timedelta(seconds=5)
    assert timedelta(minutes=29) <= at[1] <= timedelta(minutes=31)
    assert abs(at[2] - timedelta(minutes=75)) < timedelta(seconds=5)
    assert clock.now() - start >= timedelta(hours=2, minutes=10)
    assert app.timers is not None
    wake = app.timers.next_wake()  # set again by the moved clock: within a minute, real time
    assert wake is not None and wake <= datetime.now(UTC) + timedelta(minutes=1, seconds=5)
    got.clear()
    assert await app.wait(timedelta(days=1)) == 1  # tomorrow's nudge
    assert [text for text, _ in got] == ["Time for your daily check-in."]
    assert clock.offset == timedelta(days=1, hours=2, minutes=10)  # however long steps took
    await app.stop_schedules()
    app.close()


@pytest.mark.asyncio
async def test_only_the_terminal_chats_clock_moves(write_dialogs, tmp_path: Path) -> None:
    """The Telegram bot runs on the system's time: /wait there is an unknown command, and
    the App refuses to move its clock."""
    app = app_in(tmp_path, write_dialogs({"nap.yaml": CHAIN}))

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        return True

    await app.start_schedules(deliver, nudges=False)
    with pytest.raises(BotError, match="only the terminal chat's clock"):
        await app.wait(timedelta(minutes=15))
    await app.stop_schedules()
    app.close()


def test_the_offset_clock_only_moves_forward() -> None:
    clock = OffsetClock()
    ahead = clock.now() + timedelta(hours=1)
    clock.move_to(ahead)
    assert timedelta(0) <= clock.now() - ahead < timedelta(seconds=1)
    clock.move_to(ahead - timedelta(minutes=5))
    assert clock.now() >= ahead


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_bold_and_italic_only_where_a_terminal_shows_them() -> None:
    assert styled(Stream(True), {"TERM": "xterm-256color"})
    assert not styled(Stream(False), {"TERM": "xterm-256color"})  # a file, a pipe, a test
    assert not styled(Stream(True), {"TERM": "dumb"})
    assert not styled(Stream(True), {"TERM": "xterm", "NO_COLOR": "1"})  # no-color.org
    assert styled(Stream(True), {"TERM": "xterm", "NO_COLOR": ""})  # set but empty: ignored


def test_telegram_html_as_ansi() -> None:
    assert to_ansi("Your reason: <b>my <i>health</i></b> &amp; <a href='x'>more</a>") == \
        "Your reason: \x1b[1mmy \x1b[3mhealth\x1b[23m\x1b[22m & more"
    assert words(timedelta(days=1, minutes=15)) == "1 day 15 minutes"
    assert words(timedelta(seconds=30)) == "30 seconds"
