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
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.limiter import PriorityLimiter
from bot.channels.telegram.sender import ChatPacer
from bot.config import CheckinsConfig, StorageConfig, TelegramConfig, load_config
from bot.events import Priority
from bot.reminders import next_due
from bot.storage.base import ReminderChange, StepWrites, UserRecord
from tests.emulator import BotApiEmulator

pytestmark = pytest.mark.slow  # fan-outs paced at Telegram's 30 a second: ~9 s

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 60


def due_now(app: App, now: datetime, people: int) -> None:
    for user in range(1, people + 1):  # all due a minute ago, in one zone or another
        zone = ("Europe/London", "Asia/Tokyo", "America/Chicago")[user % 3]
        local = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
        hhmm = local.strftime("%H:%M")
        due = next_due(hhmm, zone, now - timedelta(days=1, minutes=2))
        person = app.store.person("telegram", str(user))  # Telegram's chat `user`
        app.store.save_step(StepWrites(UserRecord(person), reminder=ReminderChange(
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
            upcoming = [app.store.reminder(app.store.person("telegram", str(u)))
                        for u in range(1, PEOPLE + 1)]
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
    # Counted, not timed: how many nudges were waiting for their turn when a reply to one
    # of the people writing came to the limiter, and how many went out before it.
    limiter = channel.application.bot.rate_limiter
    assert isinstance(limiter, PriorityLimiter)
    process = limiter.process_request
    replies: list[tuple[str, Any, int, int]] = []  # endpoint, priority, waiting, ahead

    async def counted(callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                      data: dict[str, Any], rate_limit_args: dict[str, int] | None) -> Any:
        if int(data.get("chat_id", 0) or 0) not in (1001, 1002):
            return await process(callback, args, kwargs, endpoint, data, rate_limit_args)
        waiting, sent = limiter.waiting(), len(emulator.sent)
        result = await process(callback, args, kwargs, endpoint, data, rate_limit_args)
        ahead = sum(1 for m in emulator.sent[sent:] if m.chat_id <= 150)
        replies.append((endpoint, rate_limit_args, waiting, ahead))
        return result

    limiter.process_request = counted  # type: ignore[method-assign]
    stop = asyncio.Event()
    try:
        async with channel.running():
            polling = asyncio.create_task(channel.poll(stop))
            for _ in range(1000):  # until the fan-out is under way: nudges are queued
                if limiter.waiting() >= 20:
                    break
                await asyncio.sleep(0.01)
            for user, text in ((1001, "/help"), (1002, "i want to kill myself")):
                emulator.user_sends(user, text)
                await emulator.wait_for(user, 1, timeout=10)
            assert app.nudges is not None
            assert app.nudges.sent < 150  # still fanning out when they were answered
            await asyncio.wait_for(app.nudges.drain(), 30)
            stop.set()
            await polling
    finally:
        await emulator.stop()
    assert [endpoint for endpoint, *_ in replies] == ["sendMessage", "sendMessage"], replies
    # The crisis reply reaches the limiter as one (priority 0 was dropped by
    # python-telegram-bot as falsy: it queued as an ordinary reply).
    assert [args for _, args, *_ in replies] == [{"priority": Priority.REPLY},
                                                 {"priority": Priority.CRISIS}], replies
    for _, _, waiting, ahead in replies:
        # First come, first served, the nudges waiting would all go first (20 to 50 here);
        # served first, only those already past the limiter can arrive ahead.
        assert waiting >= 10 and ahead <= 5, replies
    assert emulator.rate_limited == 0
    assert [len(emulator.messages_to(u)) for u in range(1, 151)] == [1] * 150
