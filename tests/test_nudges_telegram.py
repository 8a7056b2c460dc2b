"""Same-minute nudges through the real Telegram client and the emulator, with Telegram's
30 messages a second enforced: every person gets exactly one, with no 429s. (The 10,000-person
run is bench/nudges.py; this is the same path with fewer people, to stay fast.)"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import ChatPacer
from bot.config import CheckinsConfig, StorageConfig, TelegramConfig, load_config
from bot.reminders import next_due
from bot.storage.base import ReminderChange, StepWrites, UserRecord
from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 60


@pytest.mark.asyncio
async def test_same_minute_nudges_stay_within_telegrams_limits(tmp_path: Path) -> None:
    emulator = BotApiEmulator(per_second=30)
    await emulator.start()
    config = load_config(None, env={})
    tg = TelegramConfig(token=emulator.token, api_base_url=emulator.base_url,
                        api_base_file_url=emulator.base_file_url)
    config = replace(config, telegram=tg, storage=StorageConfig(str(tmp_path / "c.db")),
                     checkins=CheckinsConfig(grace_minutes=120, per_second=25))
    app = build_app(config)
    now = datetime.now(UTC)
    for user in range(1, PEOPLE + 1):  # all due a minute ago, in one zone or another
        zone = ("Europe/London", "Asia/Tokyo", "America/Chicago")[user % 3]
        local = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
        hhmm = local.strftime("%H:%M")
        due = next_due(hhmm, zone, now - timedelta(days=1, minutes=2))
        app.store.save_step(StepWrites(UserRecord(user), reminder=ReminderChange(
            hhmm, zone, due)), now)
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
    assert elapsed >= (PEOPLE - 1) / 25  # spread out, not a burst
    assert all(m.plain.startswith("Time for your daily check-in") for m in emulator.sent)
    assert all(r is not None and r.next_due > now for r in upcoming)  # moved on to tomorrow
