"""The asyncio side: one user's events in order, users concurrent, follow-ups on APScheduler."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.clock import SystemClock
from bot.config import DialogsConfig, StorageConfig, load_config
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dispatch import Dispatcher
from bot.events import Incoming, Outgoing
from bot.scheduler import Timers
from bot.storage.base import NewFollowUp, StepWrites, UserRecord
from bot.storage.outbox import Deliveries, Unsent
from bot.storage.sqlite import SqliteStore
from bot.tools import default_registry

DELAY = """\
dialog: nap
title: A short delay
command: nap
description: Wait a moment
start: ask
states:
  ask:
    say: I'll check back in a second.
    do: [{follow_up: {after: 1s, go: back}}]
    end: true
  back:
    say: I'm back.
    end: true
"""


class SlowEngine:
    """Records overlapping steps per user; each step takes a little while."""

    def __init__(self) -> None:
        self.running: dict[int, int] = {}
        self.max_overlap_same_user = 0
        self.max_parallel_users = 0
        self.order: dict[int, list[str]] = {}
        self.lock = threading.Lock()
        # Nothing is saved, so there is nothing to confirm or resend.
        self.deliveries = Deliveries(NoRows(), lambda: datetime.now(UTC))

    def handle(self, event: Incoming) -> list[Outgoing]:
        with self.lock:
            self.running[event.user_id] = self.running.get(event.user_id, 0) + 1
            self.max_overlap_same_user = max(self.max_overlap_same_user,
                                             self.running[event.user_id])
            self.order.setdefault(event.user_id, []).append(event.text)
        time.sleep(0.001)
        with self.lock:
            self.running[event.user_id] -= 1
        return [Outgoing(event.text)]

    def draw(self, reply: Outgoing) -> Outgoing:
        return reply


class NoRows:
    def mark_delivered(self, outbox_ids: list[int]) -> None:
        pass

    def unsent(self) -> list[Unsent]:
        return []


@pytest.mark.asyncio
async def test_one_users_events_stay_in_order_and_replies_too() -> None:
    engine = SlowEngine()
    dispatcher = Dispatcher(engine)
    delivered: dict[int, list[str]] = {}
    in_delivery: set[int] = set()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        assert user_id not in in_delivery  # a user's deliveries never overlap
        in_delivery.add(user_id)
        await asyncio.sleep(0.002)  # a network round trip
        delivered.setdefault(user_id, []).append(reply.text)
        in_delivery.discard(user_id)
        return True

    events = [Incoming.message(u, f"{u}-{i}") for i in range(20) for u in range(1, 11)]
    await asyncio.gather(*(dispatcher.process(e, deliver) for e in events))
    for user in range(1, 11):
        expected = [f"{user}-{i}" for i in range(20)]
        assert engine.order[user] == expected
        assert delivered[user] == expected
    assert engine.max_overlap_same_user == 1
    assert dispatcher.active_users() == 0  # no per-user lock is kept once idle
    dispatcher.close()


@pytest.mark.asyncio
async def test_users_are_served_concurrently() -> None:
    """While one user's reply is on the wire, other users' steps go on: each delivery stays
    on the wire until all 50 are on it at once, which happens only if none waits for
    another. (Serialised, the first would wait in vain; it gives up after 5 s.)"""
    engine = SlowEngine()
    dispatcher = Dispatcher(engine)
    users, on_the_wire, most = 50, 0, 0
    all_on_the_wire = asyncio.Event()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        nonlocal on_the_wire, most
        on_the_wire += 1
        most = max(most, on_the_wire)
        if on_the_wire == users:
            all_on_the_wire.set()
        try:
            await asyncio.wait_for(all_on_the_wire.wait(), 5)
        except TimeoutError:
            all_on_the_wire.set()  # serialised: let the others through; the assert says so
        on_the_wire -= 1
        return True

    await asyncio.gather(*(dispatcher.process(Incoming.message(u, "hi"), deliver)
                           for u in range(users)))
    assert most == users, f"at most {most} of {users} deliveries were on the wire at once"
    dispatcher.close()


@pytest.mark.slow  # waits out a real one-second follow-up
@pytest.mark.asyncio
async def test_follow_ups_run_on_apscheduler(write_dialogs, tmp_path: Path) -> None:
    folder = write_dialogs({"nap.yaml": DELAY})
    config = load_config(None, env={})
    config = replace(config, dialogs=DialogsConfig(str(folder)),
                     storage=StorageConfig(str(tmp_path / "c.db")))
    app = build_app(config)
    got: list[str] = []
    done = asyncio.Event()

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        got.append(reply.text)
        if "I'm back." in got:
            done.set()
        return True

    assert await app.start_schedules(deliver, nudges=False) == (0, 0)
    await app.dispatcher.process(Incoming.message(1, "/nap"), deliver)
    await asyncio.wait_for(done.wait(), timeout=5)
    assert got == ["I'll check back in a second.", "I'm back."]
    assert app.store.pending_followups() == []
    await app.stop_schedules()
    app.close()


@pytest.mark.asyncio
async def test_pending_follow_ups_are_rebuilt_at_start(write_dialogs, tmp_path: Path) -> None:
    """A follow-up saved before a restart fires after it; one long overdue is skipped."""
    folder = write_dialogs({"nap.yaml": DELAY})
    registry = default_registry()
    store = SqliteStore(tmp_path / "c.db")
    now = datetime.now(UTC)
    store.save_step(StepWrites(UserRecord(1), new_followups=[
        NewFollowUp(now - timedelta(seconds=5), "nap", "back")]), now)
    store.save_step(StepWrites(UserRecord(2), new_followups=[
        NewFollowUp(now - timedelta(hours=3), "nap", "back")]), now)
    engine = Engine(load_catalog(folder, registry), registry, store, SystemClock())
    dispatcher = Dispatcher(engine)
    got: list[tuple[int, str]] = []

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        got.append((user_id, reply.text))
        return True

    timers = Timers(store, lambda e: dispatcher.process(e, deliver), dispatcher.run,
                    SystemClock(), timedelta(hours=1))
    engine.timers = timers
    assert await timers.start() == (2, 0)
    for _ in range(100):
        if not store.pending_followups():
            break
        await asyncio.sleep(0.05)
    assert got == [(1, "I'm back.")]
    assert store.pending_followups() == []
    await timers.shutdown()
    dispatcher.close()
    store.close()


@pytest.mark.asyncio
async def test_one_busy_user_does_not_starve_the_others() -> None:
    engine = SlowEngine()
    dispatcher = Dispatcher(engine, max_concurrent=4)
    finished: list[int] = []

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        await asyncio.sleep(0.01)
        finished.append(user_id)
        return True

    busy = [dispatcher.process(Incoming.message(1, f"{i}"), deliver) for i in range(30)]
    others = [dispatcher.process(Incoming.message(u, "hi"), deliver) for u in range(2, 6)]
    await asyncio.gather(*busy, *others)
    # The four other users were served long before user 1's thirty events were done.
    assert max(finished.index(u) for u in range(2, 6)) < 10
    dispatcher.close()


@pytest.mark.slow  # builds the whole bot and draws a chart: ~1.5 s
@pytest.mark.asyncio
async def test_the_progress_chart_is_drawn_off_the_engine_thread(tmp_path: Path) -> None:
    """It was drawn inside the step (~100 ms, 340 ms cold): everyone's steps waited."""
    config = replace(load_config(None, env={}), storage=StorageConfig(str(tmp_path / "c.db")))
    app = build_app(config)
    picture = app.engine.pictures["progress_chart"]
    drawn_on: list[str] = []

    drawing, finish = threading.Event(), threading.Event()

    def slow_draw(data: object) -> bytes:
        drawn_on.append(threading.current_thread().name)
        drawing.set()
        finish.wait(10)  # the drawing lasts until the test has seen the other step answered
        return picture.draw(data)

    app.engine.pictures = {**app.engine.pictures,
                           "progress_chart": replace(picture, draw=slow_draw)}
    got: dict[int, list[Outgoing]] = {1: [], 2: []}

    async def deliver(user_id: int, reply: Outgoing) -> bool:
        got[user_id].append(reply)
        return True

    chart = asyncio.create_task(app.dispatcher.process(Incoming.message(1, "/progress"),
                                                       deliver))
    try:
        assert await asyncio.to_thread(drawing.wait, 10), "the chart was never drawn"
        # Drawn on the engine thread, this step could not run until the drawing ends.
        await asyncio.wait_for(app.dispatcher.process(Incoming.message(2, "/help"), deliver),
                               5)
        assert got[2] and not any(r.photo for r in got[1])  # answered while it was drawn
    finally:
        finish.set()
    await chart
    assert drawn_on and not drawn_on[0].startswith("engine")
    photo = got[1][0].photo
    assert photo is not None and photo.startswith(b"\x89PNG") and got[1][0].drawing is None
    app.close()
