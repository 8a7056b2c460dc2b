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

from bot.phrases import alternatives

_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?"


@dataclass(frozen=True, slots=True)
class Said:
    """The words of a request in the person's language (dialogs/words/<language>.yaml,
    `reminder:`): those that stop the check-in ("off", "apagar") and those after a time that
    say morning or afternoon ("pm", "de la tarde")."""

    off: tuple[str, ...] = ()
    am: tuple[str, ...] = ()
    pm: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """What `/reminder ARGS` asks for."""

    status: str  # "set", "off", "show", "bad_time", "bad_zone", "need_zone"
    local_time: str = ""  # "HH:MM"
    zone: str = ""


def _time_at_start(text: str, said: Said) -> tuple[str | None, str] | None:
    """The time a request starts with and the rest of it ("8.30pm Leeds" -> "20:30",
    "Leeds"); None when it does not start with one; (None, rest) for a time not on the clock."""
    text = re.sub(r"^(\d{2})(\d{2})(?!\w)", r"\1:\2", text.strip())  # "0730"
    match = re.match(rf"{_TIME}(?:\s*({alternatives(said.am)})|\s*({alternatives(said.pm)}))?"
                     r"(?!\w)", text, re.IGNORECASE)
    if not match:
        return None
    rest = text[match.end():].strip()
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3) or match.group(4):
        if not 1 <= hour <= 12:
            return None, rest
        hour = hour % 12 + (12 if match.group(4) else 0)
    if hour > 23 or minute > 59:
        return None, rest
    return f"{hour:02d}:{minute:02d}", rest


def parse_time(text: str, said: Said) -> str | None:
    """"20:30", "8.30pm", "7am", "0730"? -> "HH:MM"; None when it is not a time of day."""
    found = _time_at_start(text, said)
    return found[0] if found and not found[1] else None


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


def parse_request(args: str, known_zone: str | None, said: Said,
                  find: Callable[[str], str | None] = find_zone) -> ReminderRequest:
    """What "/reminder ARGS" asks for; `find` turns the words after the time into a zone."""
    if not args.split():
        return ReminderRequest("show")
    if re.match(rf"({alternatives(said.off)})(?!\w)", args.strip(), re.IGNORECASE):
        return ReminderRequest("off")
    found = _time_at_start(args, said)
    if found is None or found[0] is None:
        return ReminderRequest("bad_time")
    local, rest = found[0], found[1]
    if rest:
        zone = find(rest)
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
