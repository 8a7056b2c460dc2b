"""Daily check-ins on a controlled clock: the right minute in every zone, exactly one nudge
across restarts, the grace period, snooze, blocked people, /reminder's answers, /progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dispatch import Deliver
from bot.events import Incoming, Outgoing
from bot.nudges import CLAIM_CHUNK, Nudges, schedule
from bot.storage.base import ReminderChange, StepWrites, UserRecord
from bot.storage.sqlite import SqliteStore
from bot.testing import ChatClient
from bot.tools import default_registry

GRACE = timedelta(minutes=120)
HELLO = "Time for your daily check-in. It takes under 30 seconds."


class Harness:
    """An engine on SQLite and a fake clock, and nudge schedulers to start and stop."""

    def __init__(self, db: Path, dialogs: Path, start: datetime):
        self.db, self.dialogs = db, dialogs
        self.clock = FakeClock(start)
        self.sent: list[tuple[int, str]] = []
        self.open()

    def open(self) -> None:
        registry = default_registry()
        self.store = SqliteStore(self.db)
        self.engine = Engine(load_catalog(self.dialogs, registry), registry, self.store,
                             self.clock)

    def restart(self) -> None:
        self.store.close()
        self.open()

    def chat(self, user: int) -> ChatClient:
        return ChatClient(engine=self.engine, user_id=user)

    def scheduler(self) -> Nudges:
        async def process(event: Incoming, deliver: Deliver) -> list[Outgoing]:
            replies = self.engine.handle(event)
            for reply in replies:
                await deliver(event.user_id, reply)
            return replies

        async def deliver(user_id: int, reply: Outgoing) -> bool:
            self.sent.append((user_id, reply.text))
            return True

        async def run_store(fn, *args):  # type: ignore[no-untyped-def]
            return fn(*args)

        return Nudges(self.store, process, deliver, run_store, self.clock, GRACE)

    def nudges(self, user: int) -> int:
        return sum(1 for u, text in self.sent if u == user and text == HELLO)


@pytest.fixture
def harness(tmp_path: Path, dialogs_dir: Path) -> Harness:
    return Harness(tmp_path / "c.db", dialogs_dir, datetime(2026, 6, 1, 18, 0, tzinfo=UTC))


async def tick_at(harness: Harness, scheduler: Nudges, when: datetime) -> int:
    harness.clock._now = when
    claimed = await scheduler.tick()
    await scheduler.drain()
    return claimed


@pytest.mark.asyncio
async def test_the_nudge_comes_in_the_local_minute_east_and_west(harness: Harness) -> None:
    for user, zone in ((1, "Europe/London"), (2, "Asia/Tokyo"), (3, "America/New_York")):
        harness.chat(user).send(f"/reminder 20:30 {zone}")
    scheduler = harness.scheduler()
    await scheduler.start()
    # 20:30 BST = 19:30 UTC; 20:30 JST = 11:30 UTC next day; 20:30 EDT = 00:30 UTC next day.
    assert await tick_at(harness, scheduler, datetime(2026, 6, 1, 19, 29, tzinfo=UTC)) == 0
    assert await tick_at(harness, scheduler, datetime(2026, 6, 1, 19, 30, tzinfo=UTC)) == 1
    assert await tick_at(harness, scheduler, datetime(2026, 6, 2, 0, 30, tzinfo=UTC)) == 1
    assert await tick_at(harness, scheduler, datetime(2026, 6, 2, 11, 30, tzinfo=UTC)) == 1
    assert [harness.nudges(u) for u in (1, 2, 3)] == [1, 1, 1]
    assert await tick_at(harness, scheduler, datetime(2026, 6, 2, 19, 30, tzinfo=UTC)) == 1
    assert harness.nudges(1) == 2  # and again the next day
    await scheduler.shutdown()


@pytest.mark.slow  # three restarts: ~2.5 s
@pytest.mark.asyncio
async def test_a_restart_before_at_or_after_the_minute_sends_exactly_one(
        harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    due = datetime(2026, 6, 1, 19, 30, tzinfo=UTC)
    # Before: a scheduler starts and stops at 19:29; the next one sees it due at 19:30.
    harness.clock._now = due - timedelta(minutes=1)
    first = harness.scheduler()
    assert await first.start() == 0
    await first.shutdown()
    harness.restart()
    # At: claimed in the due minute, then the bot dies before sending it.
    harness.clock._now = due
    assert [n.user_id for n in harness.store.claim_nudges(due, GRACE, schedule)] == [1]
    harness.restart()
    # After: the next start, a minute later, sends the claimed nudge once.
    second = harness.scheduler()
    harness.clock._now = due + timedelta(minutes=1)
    assert await second.start() == 1
    await second.drain()
    assert await tick_at(harness, second, due + timedelta(minutes=2)) == 0
    await second.shutdown()
    harness.restart()
    third = harness.scheduler()
    assert await third.start() == 0  # already confirmed sent: not again
    await third.drain()
    await third.shutdown()
    assert harness.nudges(1) == 1


@pytest.mark.slow  # two bots: ~1.3 s
@pytest.mark.asyncio
async def test_killed_after_the_nudge_step_was_saved_the_outbox_sends_it_once(
        harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    due = datetime(2026, 6, 1, 19, 30, tzinfo=UTC)
    harness.clock._now = due
    harness.store.claim_nudges(due, GRACE, schedule)
    saved = harness.engine.handle(Incoming.nudge(1))  # saved with its step; then killed
    assert [r.text for r in saved][:1] == [HELLO]
    harness.restart()
    # The claim went with the step, so the scheduler does not nudge again ...
    scheduler = harness.scheduler()
    assert await scheduler.start() == 0
    await scheduler.shutdown()
    # ... and the nudge waits in the outbox, to be sent at start.
    assert [u.reply.text for u in harness.store.unsent() if u.user_id == 1][-len(saved):] \
        == [r.text for r in saved]


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
@pytest.mark.asyncio
async def test_missed_nudges_are_sent_late_only_within_the_grace_period(
        harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    harness.chat(2).send("/reminder 18:45 Europe/London")  # 17:45 UTC: already gone today
    harness.chat(3).send("/reminder 19:00 Europe/London")
    # The bot was down from before 18:00 until 20:50 UTC.
    scheduler = harness.scheduler()
    harness.clock._now = datetime(2026, 6, 1, 20, 50, tzinfo=UTC)
    await scheduler.start()
    await scheduler.drain()
    # 19:30 UTC is 80 minutes late: sent. 18:00 UTC (user 3) is 170 minutes late: skipped.
    assert [harness.nudges(u) for u in (1, 2, 3)] == [1, 0, 0]
    reminder = harness.store.reminder(3)
    assert reminder is not None and reminder.next_due == datetime(2026, 6, 2, 18, 0, tzinfo=UTC)
    await scheduler.shutdown()


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
@pytest.mark.asyncio
async def test_a_person_who_blocked_the_bot_is_not_nudged(harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    harness.chat(1).engine.handle(Incoming.blocked(1))
    scheduler = harness.scheduler()
    await scheduler.start()
    assert await tick_at(harness, scheduler, datetime(2026, 6, 1, 19, 30, tzinfo=UTC)) == 0
    harness.chat(1).send("/help")  # writing again: active again
    assert await tick_at(harness, scheduler, datetime(2026, 6, 2, 19, 30, tzinfo=UTC)) == 1
    await scheduler.shutdown()


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
@pytest.mark.asyncio
async def test_snooze_asks_again_an_hour_later_and_skip_waits_for_tomorrow(
        harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    scheduler = harness.scheduler()
    await scheduler.start()
    await tick_at(harness, scheduler, datetime(2026, 6, 1, 19, 30, tzinfo=UTC))
    person = harness.chat(1)
    person.replies = harness.engine.resume(1)[1:]  # the nudge on screen, as the person sees it
    person.history = list(person.replies)
    person.press("Snooze an hour")
    assert person.texts == ["Okay, I'll ask again in an hour."]
    assert person.wait(minutes=59) == []
    person.wait(minutes=1)
    assert person.texts == [HELLO]
    person.press("Skip today")
    assert person.texts == ["No problem. See you tomorrow."]
    await scheduler.shutdown()


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_reminder_answers_and_bad_input(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir, clock=FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)))
    chat.send("/reminder")
    assert chat.texts == ["Your daily check-in: off."]
    chat.send("/reminder 25:00 Europe/London")
    assert chat.texts[0].startswith("I couldn't read that as a time of day.")
    assert "for example 20:30 or 8pm" in chat.texts[0]
    chat.send("/reminder 20:30 Mars/Olympus")
    assert chat.texts[0].startswith("I don't know that time zone.")
    chat.send("Leeds")
    assert chat.texts == ["Is your time zone Europe/London?"]
    chat.press("Yes")
    assert chat.texts == ["Done: I'll check in with you every day at 20:30 (Europe/London), "
                          "starting today at 20:30. Change it with /reminder, or stop it with "
                          "/reminder off."]
    chat.send("/reminder 7am")  # the zone is known now
    assert "every day at 07:00 (Europe/London), starting tomorrow" in chat.text
    chat.send("/reminder")
    assert chat.texts == ["Your daily check-in: every day at 07:00 (Europe/London)."]
    chat.send("/reminder off")
    assert chat.texts[0].startswith("Okay, no more daily check-ins.")
    assert chat.engine.store.reminder(1) is None


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_a_zone_from_a_shared_location(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("/reminder 9pm")
    assert chat.texts[0].startswith("Which time zone are you in?")
    chat.share_location(-33.87, 151.21)  # Sydney
    assert chat.texts == ["Is your time zone Australia/Sydney?"]
    chat.press("Yes")
    assert chat.text.startswith("Done: I'll check in with you every day at 21:00 "
                                "(Australia/Sydney)")


@pytest.mark.slow  # draws a chart: ~1 s
def test_a_check_in_then_progress_as_a_chart(dialogs_dir: Path) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 19, 0, tzinfo=UTC))
    chat = ChatClient(dialogs_dir, clock=clock)
    for went in ["Yes", "Yes", "I used", "Yes"]:
        chat.send("/checkin")
        chat.press("4")
        chat.press("3")
        chat.press(went)
        chat.press("Skip")
        clock.advance(timedelta(days=1))
        if went == "I used":
            assert chat.texts[0].startswith("Thank you for being honest.")
    chat.send("/progress")
    photo, text = chat.replies
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    assert len(photo.photo) > 10_000  # a real chart, not an empty image
    assert "Check-ins in the last 30 days: 4" in text.text
    assert "Days that went the way you wanted: 3" in text.text
    assert "Current run of good days: 1 (longest: 2)" in text.text


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_a_strong_urge_in_the_check_in_offers_the_tools(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("how was my day, check in")
    chat.send("/checkin")
    chat.press("2")
    chat.press("9")
    chat.press("Yes")
    chat.press("Skip")
    assert chat.texts[0] == "An urge of 9 today is a lot to handle. Want to try an urge tool now?"
    chat.press("Yes, show me")
    assert chat.position == ("urge", "rate")


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
@pytest.mark.asyncio
async def test_after_days_down_only_todays_nudge_counts(harness: Harness) -> None:
    harness.chat(1).send("/reminder 20:30 Europe/London")
    scheduler = harness.scheduler()
    harness.clock._now = datetime(2026, 6, 4, 19, 45, tzinfo=UTC)  # three days later
    await scheduler.start()
    await scheduler.drain()
    assert harness.nudges(1) == 1  # today's, 15 minutes late; not three
    reminder = harness.store.reminder(1)
    assert reminder is not None and reminder.next_due == datetime(2026, 6, 5, 19, 30,
                                                                  tzinfo=UTC)
    await scheduler.shutdown()


@pytest.mark.slow  # draws a chart: ~1 s
def test_the_weekly_summary_comes_with_the_sunday_nudge_when_asked_for(dialogs_dir: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 28, 19, 0, tzinfo=UTC))  # a Saturday
    chat = ChatClient(dialogs_dir, clock=clock)
    chat.send("/progress")
    chat.press("Weekly summary on Sundays")
    chat.press("Yes, every Sunday")
    assert chat.texts == ["Done. You'll get it on Sundays. /progress any time to stop it."]
    chat.nudge()  # Saturday: only the nudge
    assert chat.texts == [HELLO] and chat.replies[0].photo is None
    clock.advance(timedelta(days=1))
    chat.nudge()  # Sunday: the chart and summary first
    assert chat.replies[0].photo is not None
    assert chat.texts[0].startswith("Your week, and the 30 days around it:")
    assert chat.texts[-1] == HELLO


@pytest.mark.slow  # loads the real dialogs, for each of the two days: ~1.2 s
@pytest.mark.asyncio
@pytest.mark.parametrize("day,utc_due", [
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
], ids=["clocks-forward", "clocks-back"])
async def test_one_nudge_on_each_dst_change_day(harness: Harness, day: datetime,
                                                utc_due: datetime) -> None:
    harness.clock._now = day
    harness.chat(1).send("/reminder 01:30 Europe/London")
    scheduler = harness.scheduler()
    await scheduler.start()
    minute = utc_due - timedelta(minutes=2)
    while minute < utc_due + timedelta(hours=3):  # every minute through the change
        await tick_at(harness, scheduler, minute)
        minute += timedelta(minutes=1)
    assert harness.nudges(1) == 1
    await scheduler.shutdown()


def test_a_lapse_checked_in_today_ends_the_current_run() -> None:
    from datetime import date

    from bot.tools.checkins import CheckinEntry
    from bot.tools.progress import runs

    today = date(2026, 6, 10)
    good = [CheckinEntry(today - timedelta(days=d), went_well="yes") for d in (1, 2)]
    assert runs(good, today) == (2, 2)  # today not checked in yet: the run goes on
    assert runs([*good, CheckinEntry(today, went_well="used")], today) == (0, 2)
    assert runs([*good, CheckinEntry(today, went_well="yes")], today) == (3, 3)


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_a_city_works_in_the_command_and_an_old_zone_is_not_reused(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir, clock=FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)))
    chat.send("/reminder 20:30 London")
    assert "every day at 20:30 (Europe/London)" in chat.text
    chat.send("/reminder 21:00 America/Chicago")
    chat.send("/reminder")
    chat.press("Set a time")
    chat.send("22:00")
    assert "every day at 22:00 (America/Chicago)" in chat.text


@pytest.mark.slow  # claims and sends for many people: ~1 s
@pytest.mark.asyncio
async def test_many_due_at_once_are_claimed_in_chunks(harness: Harness) -> None:
    """One transaction for everyone due held every step up (220 ms for 10,000)."""
    due = datetime(2026, 6, 1, 19, 30, tzinfo=UTC)
    for user in range(1, CLAIM_CHUNK * 2 + 2):
        harness.store.save_step(StepWrites(UserRecord(user), reminder=ReminderChange(
            "20:30", "Europe/London", due)), due - timedelta(days=1))
    calls: list[int] = []
    claim = harness.store.claim_nudges

    def counted(*args):  # type: ignore[no-untyped-def]
        found = claim(*args)
        calls.append(len(found))
        return found

    harness.store.claim_nudges = counted  # type: ignore[method-assign]
    scheduler = harness.scheduler()
    harness.clock._now = due + timedelta(seconds=5)
    assert await scheduler.tick() == CLAIM_CHUNK * 2 + 1
    assert calls == [CLAIM_CHUNK, CLAIM_CHUNK, 1]
    await scheduler.shutdown()
