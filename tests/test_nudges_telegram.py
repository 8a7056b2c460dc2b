"""Same-minute nudges through the real Telegram client and the emulator, with Telegram's
30 messages a second enforced: every person gets exactly one, with no 429s, and someone who
writes during the fan-out is answered ahead of it. (The 10,000-person run is
bench/nudges.py; this is the same path with fewer people, to stay fast.)"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import ChatPacer
from bot.config import CheckinsConfig, StorageConfig, TelegramConfig, load_config
from bot.reminders import next_due
from bot.storage.base import ReminderChange, StepWrites, UserRecord
from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 60


def due_now(app: App, now: datetime, people: int) -> None:
    for user in range(1, people + 1):  # all due a minute ago, in one zone or another
        zone = ("Europe/London", "Asia/Tokyo", "America/Chicago")[user % 3]
        local = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
        hhmm = local.strftime("%H:%M")
        due = next_due(hhmm, zone, now - timedelta(days=1, minutes=2))
        app.store.save_step(StepWrites(UserRecord(user), reminder=ReminderChange(
            hhmm, zone, due)), now)


@pytest.mark.asyncio
async def test_same_minute_nudges_stay_within_telegrams_limits(tmp_path: Path) -> None:
    emulator = BotApiEmulator(per_second=30)
    await emulator.start()
    config = load_config(None, env={})
    tg = TelegramConfig(token=emulator.token, api_base_url=emulator.base_url,
                        api_base_file_url=emulator.base_file_url)
    config = replace(config, telegram=tg, storage=StorageConfig(str(tmp_path / "c.db")),
                     checkins=CheckinsConfig(grace_minutes=120))
    app = build_app(config)
    now = datetime.now(UTC)
    due_now(app, now, PEOPLE)

    channel = TelegramChannel(app, tg, poll_timeout=1, backoff=0.01,
                              pacer=ChatPacer(burst=100, period=1))
    started = time.monotonic()
    try:
        async with channel.running():
            assert app.nudges is not None
            await asyncio.wait_for(app.nudges.drain(), 30)
            elapsed = time.monotonic() - started
            upcoming = [app.store.reminder(u) for u in range(1, PEOPLE + 1)]
    finally:
        await emulator.stop()
    per_person = [len(emulator.messages_to(u)) for u in range(1, PEOPLE + 1)]
    assert per_person == [1] * PEOPLE  # none lost, none twice
    assert emulator.rate_limited == 0  # no 429s
    assert elapsed >= (PEOPLE - 29) / 29  # spread out, not a burst
    assert all(m.plain.startswith("Time for your daily check-in") for m in emulator.sent)
    assert all(r is not None and r.next_due > now for r in upcoming)  # moved on to tomorrow


@pytest.mark.asyncio
async def test_someone_writing_during_the_fan_out_is_answered_first(tmp_path: Path) -> None:
    """Every message shared one first-come limiter: a person with a craving, or in crisis,
    waited behind the nudges already queued (1.2 s at the median, up to 5.5 s, measured)."""
    emulator = BotApiEmulator(per_second=30)
    await emulator.start()
    config = load_config(None, env={})
    tg = TelegramConfig(token=emulator.token, api_base_url=emulator.base_url,
                        api_base_file_url=emulator.base_file_url)
    config = replace(config, telegram=tg, storage=StorageConfig(str(tmp_path / "c.db")))
    app = build_app(config)
    due_now(app, datetime.now(UTC), 150)
    channel = TelegramChannel(app, tg, poll_timeout=1, backoff=0.01,
                              pacer=ChatPacer(burst=100, period=1))
    stop = asyncio.Event()
    waits = {}
    try:
        async with channel.running():
            polling = asyncio.create_task(channel.poll(stop))
            await asyncio.sleep(1.5)  # the fan-out is under way: nudges are queued
            for user, text in ((1001, "/help"), (1002, "i want to kill myself")):
                sent = time.monotonic()
                emulator.user_sends(user, text)
                await emulator.wait_for(user, 1, timeout=10)
                waits[text] = time.monotonic() - sent
            assert app.nudges is not None
            assert app.nudges.sent < 150  # still fanning out when they were answered
            await asyncio.wait_for(app.nudges.drain(), 30)
            stop.set()
            await polling
    finally:
        await emulator.stop()
    assert waits["/help"] < 0.5 and waits["i want to kill myself"] < 0.5, waits
    assert emulator.rate_limited == 0
    assert [len(emulator.messages_to(u)) for u in range(1, 151)] == [1] * 150
