"""Read meeting files: the Meeting Guide JSON format (code4recovery's open specification),
or a simple CSV or YAML of our own with the same field names. A bad row is reported (file,
row, field, why) and skipped; the rest loads.

Feeds are read as intergroups really publish them: days as numbers, names or lists, times in
24 h or with AM/PM, `address` and `city`/`region`/`postal_code`/`country` or a
`formatted_address`, `attendance_option` (in_person, hybrid, online; inactive ones skipped).
A meeting without coordinates gets an approximate place, the centre of its town from the
gazetteer, marked approximate wherever it is shown; it is never dropped for that alone.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import Problem
from bot.meetings.model import DAY_NAMES, Meeting
from bot.meetings.search import MeetingIndex
from bot.places import Place, find_places
from bot.reminders import Said, parse_time


class BadRow(Exception):
    def __init__(self, field: str, why: str, reason: str = ""):
        super().__init__(f"{field}: {why}")
        self.field = field
        self.reason = reason or f"bad {field}"  # for the file's summary line


COUNTRIES = {"usa": "US", "us": "US", "united states": "US", "united states of america": "US",
             "canada": "CA", "uk": "GB", "united kingdom": "GB", "great britain": "GB",
             "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
             "ireland": "IE", "australia": "AU", "new zealand": "NZ", "south africa": "ZA",
             "mexico": "MX", "méxico": "MX", "spain": "ES", "españa": "ES", "india": "IN"}


# Feeds write times "19:00" or "7:00 PM": a file format, not a person's words.
FEED_TIMES = Said(am=("am",), pm=("pm",))
EXAMPLE = Path(__file__).resolve().parent / "example_meetings.json"


@cache
def example_index() -> MeetingIndex:
    """The example list that ships with the bot (for a first try, and for validation)."""
    meetings, _ = load_files([EXAMPLE], "Europe/London")
    return MeetingIndex(meetings)


def load_files(paths: Iterable[str | Path], default_zone: str) -> tuple[list[Meeting],
                                                                          list[Problem]]:
    meetings: list[Meeting] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        try:
            rows = _rows(path)
        except (OSError, ValueError, yaml.YAMLError, csv.Error) as exc:
            problems.append(Problem(str(path), 1, f"cannot read the meeting list: {exc}"))
            continue
        for number, row in rows:
            where = f"{path}:{number}"
            try:
                meetings.append(_meeting(row, default_zone, where))
            except BadRow as exc:
                name = row.get("name") if isinstance(row, dict) else None
                label = f" ({name})" if name else ""
                problems.append(Problem(str(path), number, f"row {number}{label}: {exc}; "
                                        "skipped", code=exc.reason))
    return meetings, problems


def summary(source: str, meetings: list[Meeting], problems: list[Problem]) -> str:
    """One line for a file: what loaded, how much of it approximately, what was skipped and
    why (the rows' details are for the debug log)."""
    mine = [m for m in meetings if m.source.rpartition(":")[0] == source]
    skipped = Counter(p.code or "unreadable" for p in problems if p.file == source)
    approximate = sum(m.approximate for m in mine)
    line = f"{source}: {len(mine)} meetings"
    if approximate:
        line += f" ({approximate} with an approximate place: no coordinates in the feed)"
    if skipped:
        line += f"; skipped {sum(skipped.values())}: " + ", ".join(
            f"{count} {reason}" for reason, count in skipped.most_common())
    return line


def _rows(path: Path) -> list[tuple[int, Any]]:
    """(row number, row) pairs: 1-based item numbers for JSON and YAML, line numbers for CSV."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        return [(reader.line_num, row) for row in reader]
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if isinstance(data, dict) and "meetings" in data:
        data = data["meetings"]
    if not isinstance(data, list):
        raise ValueError("expected a list of meetings")
    return list(enumerate(data, 1))


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _meeting(row: Any, default_zone: str, where: str) -> Meeting:
    if not isinstance(row, dict):
        raise BadRow("(row)", "expected a meeting with named fields")
    name = _text(row, "name")
    if not name:
        raise BadRow("name", "missing")
    days = _days(row.get("day"))
    start = parse_time(_text(row, "time"), FEED_TIMES)
    if start is None:
        raise BadRow("time", f"'{_text(row, 'time')}' is not a time like 19:30")
    end = _text(row, "end_time")
    if end and parse_time(end, FEED_TIMES) is None:
        raise BadRow("end_time", f"'{end}' is not a time like 21:00")
    zone = _text(row, "timezone") or default_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRow("timezone", f"unknown time zone '{zone}'") from None
    attendance = _text(row, "attendance_option").lower()
    if attendance == "inactive":
        raise BadRow("attendance_option", "inactive", reason="inactive")
    latitude, longitude = _coordinate(row, "latitude", 90), _coordinate(row, "longitude", 180)
    if (latitude is None) != (longitude is None):
        raise BadRow("latitude" if latitude is None else "longitude", "missing (both are needed)")
    address = _text(row, "formatted_address") or ", ".join(
        part for part in (_text(row, k) for k in ("address", "city", "region", "postal_code",
                                                  "country")) if part)
    approximate, area = str(row.get("approximate", "")).lower() in ("yes", "true", "1"), ""
    if latitude is None and attendance != "online":
        found = _town(row, address)
        if found is not None:
            latitude, longitude, area = found.latitude, found.longitude, found.name
            approximate = True
    types = row.get("types") or ()
    if isinstance(types, str):
        types = [t.strip() for t in types.replace(";", ",").split(",") if t.strip()]
    meeting = Meeting(
        name=name, slug=_text(row, "slug") or name.lower().replace(" ", "-"), days=days,
        time=start, timezone=zone, end_time=parse_time(end, FEED_TIMES) or "" if end else "",
        location=_text(row, "location"), address=address, latitude=latitude,
        longitude=longitude, conference_url=_text(row, "conference_url"),
        conference_url_notes=_text(row, "conference_url_notes"),
        conference_phone=_text(row, "conference_phone"), types=tuple(map(str, types)),
        notes=_text(row, "notes") or _text(row, "location_notes"), url=_text(row, "url"),
        source=where, approximate=approximate, area=area, attendance=attendance)
    if not meeting.in_person and not meeting.online:
        raise BadRow("latitude", "no place and no online link: nobody could join it",
                     reason="no place found and no online link")
    return meeting


@lru_cache(maxsize=4096)
def _places(name: str, country: str) -> tuple[Place, ...]:
    """find_places, once per town: a feed of address-only meetings names the same few towns
    hundreds of times (a fuzzy lookup is ~2 ms)."""
    return tuple(find_places(name, prefer_country=country))


def _town(row: dict[str, Any], address: str) -> Place | None:
    """The town a meeting without coordinates is in, from the gazetteer: its `city`, else
    a part of its address (street and postcodes left aside). Of several towns of that
    name, the one in the meeting's time zone, region and country (as the row or the end of
    its address names them), else the most likely."""
    parts = [" ".join(w for w in part.split() if not any(c.isdigit() for c in w))
             for part in address.split(",")]
    country = _text(row, "country") or (parts[-1] if len(parts) > 1 else "")
    code = COUNTRIES.get(country.lower().strip(), country.upper() if len(country) == 2 else "")
    regions = {_text(row, "region").upper()} | {p.upper() for p in parts if len(p) == 2}
    zone = _text(row, "timezone")
    for name in [_text(row, "city"), *parts[1:]]:
        if len(name) < 3 or COUNTRIES.get(name.lower()):
            continue
        found = _places(name, code or "GB")
        if found:
            return min(found, key=lambda p: (bool(zone) and p.zone != zone,
                                             p.region not in regions,
                                             bool(code) and p.country != code))
    return None


def _days(value: Any) -> tuple[int, ...]:
    items = value if isinstance(value, list) else str(value if value is not None else "").replace(
        ";", ",").split(",")
    days: list[int] = []
    for item in items:
        text = str(item).strip().lower()
        if text.isdigit() and 0 <= int(text) <= 6:
            days.append(int(text))
        elif text[:3] in {d[:3] for d in DAY_NAMES} and text:
            days.append([d[:3] for d in DAY_NAMES].index(text[:3]))
        elif text:
            raise BadRow("day", f"'{item}' is not a day (0 = Sunday ... 6 = Saturday, or a name)")
    if not days:
        raise BadRow("day", "missing")
    return tuple(sorted(set(days)))


def _coordinate(row: dict[str, Any], key: str, limit: float) -> float | None:
    text = _text(row, key)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRow(key, f"'{text}' is not a number") from None
    if not -limit <= value <= limit:
        raise BadRow(key, f"{value} is out of range")
    return value
