"""The one scheduler (bot.scheduler.Timers): follow-ups and nudges on one APScheduler,
driven by due rows in the database, read on the engine thread, never on the event loop;
stopped without leaving a step running against a closed database."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.config import DialogsConfig, StorageConfig, load_config
from bot.events import Outgoing
from bot.storage.base import NewFollowUp, ReminderChange, StepWrites, UserRecord
from tests.test_dispatch import DELAY  # a dialog that checks back after a second


def app_in(tmp_path: Path, folder: Path | None = None):  # type: ignore[no-untyped-def]
    config = load_config(None, env={})
    config = replace(config, storage=StorageConfig(str(tmp_path / "c.db")))
    if folder is not None:
        config = replace(config, dialogs=DialogsConfig(str(folder)))
    return build_app(config)


@pytest.mark.asyncio
async def test_one_scheduler_reading_the_database_off_the_event_loop(
        write_dialogs, tmp_path: Path) -> None:
    """Follow-ups had an APScheduler of their own, whose start read the database on the
    event loop; nudges had a second one."""
    app = app_in(tmp_path, write_dialogs({"nap.yaml": DELAY}))
    now = datetime.now(UTC)
    app.store.save_step(StepWrites(UserRecord(7), new_followups=[
        NewFollowUp(now + timedelta(hours=2), "nap", "back")]), now)
    app.store.save_step(StepWrites(UserRecord(8), reminder=ReminderChange(
        "09:00", "Europe/London", now + timedelta(hours=5))), now)
    threads: list[str] = []
    for name in ("pending_followups", "next_followup_due", "claim_nudges", "claimed_nudges"):
        real = getattr(app.store, name)

        def spy(*args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread().name)
            return _real(*args, **kwargs)
        setattr(app.store, name, spy)

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        return True

    assert await app.start_schedules(deliver) == (1, 0)
    assert app.timers is not None
    for _ in range(250):  # until the follow-up job's first look is done
        if len(threads) >= 5 and app.timers._waking is None:
            break
        await asyncio.sleep(0.02)
    jobs = {job.id for job in app.timers._scheduler.get_jobs()}
    assert jobs == {"followups", "nudges"}  # both on the one scheduler
    assert len(threads) >= 5 and threading.main_thread().name not in threads
    wake = app.timers.next_wake()
    assert wake is not None and wake <= now + timedelta(minutes=1, seconds=5)  # POLL at most
    await app.stop_schedules()
    app.close()


@pytest.mark.asyncio
async def test_a_new_follow_up_brings_the_wake_forward(write_dialogs, tmp_path: Path) -> None:
    app = app_in(tmp_path, write_dialogs({"nap.yaml": DELAY}))
    got: list[str] = []
    back = asyncio.Event()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        got.append(reply.text)
        if reply.text == "I'm back.":
            back.set()
        return True

    await app.start_schedules(deliver, nudges=False)
    from bot.events import Incoming

    await app.dispatcher.process(Incoming.message(1, "/nap"), deliver)
    await asyncio.wait_for(back.wait(), timeout=10)  # 1 s, not the minute's poll
    assert got == ["I'll check back in a second.", "I'm back."]
    await app.stop_schedules()
    app.close()


@pytest.mark.asyncio
async def test_stopping_waits_for_the_nudges_under_way(tmp_path: Path) -> None:
    """Nudges whose step was under way went on after the database closed (a traceback in
    the terminal chat as it quit)."""
    app = app_in(tmp_path)
    now = datetime.now(UTC)
    just_now = (now - timedelta(minutes=1)).astimezone(ZoneInfo("Europe/London"))
    for user in range(1, 4):
        app.store.save_step(StepWrites(UserRecord(user), reminder=ReminderChange(
            f"{just_now:%H:%M}", "Europe/London", just_now)), now)
    sending = asyncio.Event()
    never = asyncio.Event()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        sending.set()
        await never.wait()  # Telegram is slow today
        return True

    await app.start_schedules(deliver)
    await asyncio.wait_for(sending.wait(), timeout=10)
    assert app.nudges is not None and app.nudges._sending  # under way
    await app.stop_schedules()
    assert all(task.done() for task in app.nudges._sending)  # none left running
    assert all(task.done() for task in app.timers._tasks)  # type: ignore[union-attr]
    app.close()
