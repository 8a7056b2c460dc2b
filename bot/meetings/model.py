"""A weekly meeting, and when it next takes place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.meetings.types import NOT_FOR_ONESELF

# Meeting Guide numbers days from Sunday: 0 = Sunday ... 6 = Saturday.
DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@dataclass(frozen=True, slots=True)
class Meeting:
    name: str
    slug: str
    days: tuple[int, ...]  # 0 = Sunday ... 6 = Saturday
    time: str  # "HH:MM", local to `timezone`
    timezone: str
    end_time: str = ""
    location: str = ""  # the venue's name
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    conference_url: str = ""
    conference_url_notes: str = ""
    conference_phone: str = ""
    types: tuple[str, ...] = ()
    notes: str = ""
    url: str = ""
    source: str = ""  # file:row, for messages about it
    # The feed gave no coordinates: the place is the centre of `area` (a town), good for
    # "near me" but not for a pin on the map.
    approximate: bool = False
    area: str = ""
    attendance: str = ""  # the feed's attendance_option: in_person, hybrid, online

    @property
    def in_person(self) -> bool:
        return self.latitude is not None and self.longitude is not None and \
            "TC" not in self.types and self.attendance != "online"  # TC: closed in person

    @property
    def for_oneself(self) -> bool:
        """False for meetings meant for the people around someone (Family & Friends)."""
        return not NOT_FOR_ONESELF & {t.upper() for t in self.types}

    @property
    def online(self) -> bool:
        return bool(self.conference_url or self.conference_phone)


def next_start(meeting: Meeting, now: datetime) -> datetime:
    """When the meeting next starts (aware, in its own zone), from `now` on; DST-correct:
    the wall-clock time is kept across a change."""
    zone = ZoneInfo(meeting.timezone)
    local_now = now.astimezone(zone)
    hour, minute = (int(part) for part in meeting.time.split(":"))
    for offset in range(8):
        day: date = local_now.date() + timedelta(days=offset)
        weekday = (day.weekday() + 1) % 7  # Python's Monday = 0 -> Meeting Guide's Sunday = 0
        if weekday not in meeting.days:
            continue
        # zoneinfo keeps the wall-clock time across a DST change (in a skipped hour it moves
        # the meeting an hour on, as a clock on the wall would).
        start = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if start >= local_now:
            return start
    raise ValueError(f"{meeting.name} has no meeting day")  # loader refuses empty days


def ends(meeting: Meeting, start: datetime) -> datetime | None:
    """When the meeting that starts at `start` ends (its end_time, the next day when that is
    before the start), or None when the list does not say."""
    if not meeting.end_time:
        return None
    hour, minute = (int(part) for part in meeting.end_time.split(":"))
    local = start.astimezone(ZoneInfo(meeting.timezone))
    end = local.replace(hour=hour, minute=minute)
    return end if end > local else end + timedelta(days=1)
