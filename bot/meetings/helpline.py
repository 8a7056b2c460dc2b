"""Helplines and their opening hours: "Mon-Fri 09:00-17:00; Sat 10:00-14:00", "Fri-Sat
20:00-02:00" (past midnight) or "24/7"; which of several lines to offer a person, and
whether each is open now."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from bot.formats import Say, clock, weekday

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# What a line is for. "family" lines are for the people close to someone who drinks, uses,
# gambles: offered first to someone asking about a loved one, last to anyone else.
Topic = Literal["general", "alcohol", "drugs", "gambling", "eating", "family"]
TOPICS: tuple[str, ...] = get_args(Topic)
_SPAN = re.compile(r"^\s*([a-z]{3})[a-z]*(?:\s*-\s*([a-z]{3})[a-z]*)?\s+"
                   r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Opening:
    days: frozenset[int]  # 0 = Monday: the days it opens on
    start: time
    end: time  # at or before `start`: it closes the next day ("20:00-02:00")

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


def _clock(text: str) -> time:
    return time(0, 0) if text == "24:00" else time.fromisoformat(text.zfill(5))


def parse_hours(text: str) -> list[Opening] | None:
    """Openings, or None for always open ("24/7"). Raises ValueError naming the bad part."""
    if text.strip().lower() in ("24/7", "24x7", "always"):
        return None
    openings = []
    for part in text.split(";"):
        match = _SPAN.match(part)
        if not match or match.group(1).lower() not in DAYS or \
                (match.group(2) and match.group(2).lower() not in DAYS):
            raise ValueError(f"'{part.strip()}' is not like 'Mon-Fri 09:00-17:00'")
        first = DAYS.index(match.group(1).lower())
        last = DAYS.index((match.group(2) or match.group(1)).lower())
        days = frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))
        try:
            start, end = (_clock(t) for t in match.group(3, 4))
        except ValueError:
            raise ValueError(f"'{part.strip()}' has a time that is not on the clock") from None
        openings.append(Opening(days, start, end))
    return openings


def _spans(openings: list[Opening], local: datetime) -> list[tuple[datetime, datetime]]:
    """Each opening as moments, from the day before `local` to a week after."""
    spans = []
    for offset in range(-1, 8):
        day = local.date() + timedelta(days=offset)
        for o in openings:
            if day.weekday() in o.days:
                start = datetime.combine(day, o.start, tzinfo=local.tzinfo)
                end = datetime.combine(day + timedelta(days=o.overnight), o.end,
                                       tzinfo=local.tzinfo)
                spans.append((start, end))
    return sorted(spans)


def is_open(openings: list[Opening] | None, local: datetime) -> bool:
    return openings is None or any(s <= local < e for s, e in _spans(openings, local))


def closes_at(openings: list[Opening], local: datetime) -> datetime | None:
    """When it closes, if it is open at `local` (the end of back-to-back openings)."""
    end = None
    for start, stop in _spans(openings, local):
        if start <= (end or local) < stop:
            end = stop
    return end


def next_opening(openings: list[Opening], local: datetime) -> datetime:
    """The next moment the helpline opens, after `local` (aware, in the helpline's zone)."""
    for start, _ in _spans(openings, local):
        if start > local:
            return start
    raise ValueError("the helpline never opens")


@dataclass(frozen=True)
class Line:
    """One helpline, ready to say whether it is open."""

    name: str
    phone: str
    website: str
    topic: str  # one of TOPICS
    hours: str  # as the operator wrote it
    openings: list[Opening] | None  # None: always open
    zone: ZoneInfo  # the hours are in this zone

    def open_at(self, now: datetime) -> bool:
        return is_open(self.openings, now.astimezone(self.zone))

    def status(self, now: datetime, zone: ZoneInfo, say: Say, language: str) -> str:
        """'Open now, until 17:00', 'Closed now, opens Monday at 09:00' or 'Open day and
        night', in the person's time (`zone`) and language (`say` gives the texts)."""
        if self.openings is None:
            return say("helpline_always")
        local = now.astimezone(self.zone)
        yours = "" if _same_clock(self.zone, zone, now) else "_yours"
        end = closes_at(self.openings, local)
        if end is not None:
            return say(f"helpline_open{yours}", until=clock(end.astimezone(zone), language))
        opens = next_opening(self.openings, local).astimezone(zone)
        at = clock(opens, language)
        if opens.date() == now.astimezone(zone).date():
            return say(f"helpline_today{yours}", time=at)
        return say(f"helpline_closed{yours}", day=weekday(opens, language), time=at)


# The texts `status` says, with what each fills in (messages.yaml `texts:`).
STATUS_TEXTS: dict[str, tuple[str, ...]] = {
    "helpline_always": (), "helpline_open": ("until",), "helpline_open_yours": ("until",),
    "helpline_today": ("time",), "helpline_today_yours": ("time",),
    "helpline_closed": ("day", "time"), "helpline_closed_yours": ("day", "time")}


def _same_clock(a: ZoneInfo, b: ZoneInfo, now: datetime) -> bool:
    return now.astimezone(a).utcoffset() == now.astimezone(b).utcoffset()


def offered(lines: list[Line], topics: set[str]) -> list[Line]:
    """The lines to offer someone whose words or focus say `topics`, best first: the lines
    for their concern, then the general ones. Nothing known about them, or no such line:
    every line, general first, family lines last."""
    def rank(line: Line) -> int:
        if line.topic in topics:
            return 0
        return {"general": 1, "family": 3}.get(line.topic, 2)
    ranked = sorted(lines, key=rank)  # stable: the operator's order within a rank
    chosen = [line for line in ranked if rank(line) <= 1]
    return chosen if topics and chosen else ranked
