"""An injectable clock, so tests control time. Aware datetimes only (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


class OffsetClock:
    """The system's time, moved forward on request: the terminal chat's /wait, so that a
    check-back due in 15 minutes can be tried now. Never moves back (what was saved at a
    moved time stays in order)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, when: datetime) -> None:
        ahead = when - self.now()
        if ahead > timedelta(0):
            self.offset += ahead


def system_time(clock: Clock, when: datetime) -> datetime:
    """The system's time at which `clock` will read `when`: APScheduler waits by the
    system's time, the bot counts by its own clock (moved ahead in the terminal chat)."""
    return datetime.now(UTC) + (when - clock.now())
