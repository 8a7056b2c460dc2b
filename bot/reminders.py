"""Daily check-in times: parsing "/reminder 20:30 Europe/London", and the next due moment in
UTC for a local time in a time zone, correct across daylight-saving changes.

On the day clocks go forward, a time in the skipped hour (01:30 in London) happens at the
first valid minute after the gap (02:00, local); on the day they go back, a time in the
repeated hour happens once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What `/reminder ARGS` asks for."""

    status: str  # "set", "off", "show", "bad_time", "bad_zone", "need_zone"
    local_time: str = ""  # "HH:MM"
    zone: str = ""


def parse_time(text: str) -> str | None:
    """"20:30", "8.30pm", "7am", "0730"? -> "HH:MM"; None when it is not a time of day."""
    text = text.strip().lower()
    if re.fullmatch(r"\d{4}", text):
        text = f"{text[:2]}:{text[2:]}"
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def find_zone(text: str) -> str | None:
    """An IANA zone name, forgiving case ("europe/london" -> "Europe/London")."""
    text = text.strip()
    try:
        ZoneInfo(text)
        return text
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return _zones_by_lower().get(text.lower().replace(" ", "_"))


@cache
def _zones_by_lower() -> dict[str, str]:
    """Every IANA zone under its lower-case name: available_timezones() reads the zone
    files from disk (6 ms), so once."""
    return {zone.lower(): zone for zone in sorted(available_timezones())}


def parse_request(args: str, known_zone: str | None,
                  find: Callable[[str], str | None] = find_zone) -> ReminderRequest:
    """What "/reminder ARGS" asks for; `find` turns the words after the time into a zone."""
    words = args.split()
    if not words:
        return ReminderRequest("show")
    if words[0].lower() in ("off", "stop", "none", "cancel"):
        return ReminderRequest("off")
    local = parse_time(words[0])
    if local is None:
        return ReminderRequest("bad_time")
    if len(words) > 1:
        zone = find(" ".join(words[1:]))
        if zone is None:
            return ReminderRequest("bad_zone", local)
        return ReminderRequest("set", local, zone)
    if not known_zone:
        return ReminderRequest("need_zone", local)
    return ReminderRequest("set", local, known_zone)


def occurrence(day: date, local_time: str, zone: str) -> datetime:
    """The UTC moment of `local_time` on `day` in `zone` (DST rules as in the docstring)."""
    hour, minute = (int(part) for part in local_time.split(":"))
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, time(hour, minute), tzinfo=tz)  # fold=0: first occurrence
    moment = wall.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
        # The wall time does not exist (clocks went forward): the first minute after the gap.
        moment = _after_gap(day, hour, minute, tz)
    return moment


def _after_gap(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    probe = datetime.combine(day, time(hour, minute), tzinfo=tz).replace(tzinfo=None)
    for step in range(1, 181):
        candidate = (probe + timedelta(minutes=step)).replace(tzinfo=tz)
        if candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == \
                candidate.replace(tzinfo=None):
            return candidate.astimezone(UTC)
    raise ValueError(f"no valid local time after {probe} in {tz}")


def next_due(local_time: str, zone: str, after: datetime) -> datetime:
    """The first occurrence of the daily time strictly after `after` (an aware datetime)."""
    today = after.astimezone(ZoneInfo(zone)).date()
    for offset in range(-1, 3):
        moment = occurrence(today + timedelta(days=offset), local_time, zone)
        if moment > after:
            return moment
    raise AssertionError("unreachable: a daily time occurs within two days")
