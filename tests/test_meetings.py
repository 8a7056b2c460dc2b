"""Meeting lists: both formats with bad rows, distance order, and the next time a meeting
takes place across time zones, midnight, the week's end and DST."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.meetings.load import load_files
from bot.meetings.model import Meeting, next_start
from bot.meetings.search import MeetingIndex

EXAMPLE = Path(__file__).resolve().parent.parent / "bot" / "meetings" / "example_meetings.json"


def test_the_example_file_loads_cleanly() -> None:
    meetings, problems = load_files([EXAMPLE], "Europe/London")
    assert problems == []
    assert len(meetings) >= 25
    assert any(m.online and m.in_person for m in meetings)  # a hybrid one


def test_bad_rows_are_reported_and_skipped_in_json(tmp_path: Path) -> None:
    rows = [
        {"name": "Good", "day": 1, "time": "19:00", "latitude": 51.5, "longitude": -0.1},
        {"name": "No time", "day": 1, "latitude": 51.5, "longitude": -0.1},
        {"name": "Bad day", "day": 9, "time": "19:00", "latitude": 51.5, "longitude": -0.1},
        {"name": "Bad zone", "day": [1, 3], "time": "19:00", "timezone": "Mars/Base",
         "conference_url": "https://x"},
        {"name": "Half a place", "day": 2, "time": "10:00", "latitude": 51.5},
        {"name": "Nowhere", "day": 2, "time": "10:00"},
        {"day": 2, "time": "10:00", "conference_url": "https://x"},
    ]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(rows))
    meetings, problems = load_files([path], "Europe/London")
    assert [m.name for m in meetings] == ["Good"]
    assert [str(p) for p in problems] == [
        f"{path}:2: row 2 (No time): time: '' is not a time like 19:30; skipped",
        f"{path}:3: row 3 (Bad day): day: '9' is not a day (0 = Sunday ... 6 = Saturday, or a "
        "name); skipped",
        f"{path}:4: row 4 (Bad zone): timezone: unknown time zone 'Mars/Base'; skipped",
        f"{path}:5: row 5 (Half a place): longitude: missing (both are needed); skipped",
        f"{path}:6: row 6 (Nowhere): latitude: no place and no online link: nobody could join "
        "it; skipped",
        f"{path}:7: row 7: name: missing; skipped",
    ]


def test_our_csv_format_with_day_names_and_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("name,day,time,address,latitude,longitude,conference_url\n"
                    "Village hall,Tuesday;Friday,7pm,1 High St,52.2,0.12,\n"
                    "Online,sun,08:00,,,,https://meet\n"
                    "Broken,monday,19:00,,fifty,0.1,\n")
    meetings, problems = load_files([path], "Europe/London")
    assert [(m.name, m.days, m.time) for m in meetings] == [
        ("Village hall", (2, 5), "19:00"), ("Online", (0,), "08:00")]
    assert [str(p) for p in problems] == [
        f"{path}:4: row 4 (Broken): latitude: 'fifty' is not a number; skipped"]


def test_yaml_and_an_unreadable_file(tmp_path: Path) -> None:
    good = tmp_path / "m.yaml"
    good.write_text("meetings:\n  - {name: Group, day: wed, time: '18:30', "
                    "conference_url: 'https://x'}\n")
    missing = tmp_path / "nope.json"
    meetings, problems = load_files([good, missing], "Europe/London")
    assert [m.days for m in meetings] == [(3,)]
    assert problems[0].file == str(missing)
    assert "cannot read the meeting list" in problems[0].message


def meeting(days: tuple[int, ...], at: str, zone: str = "Europe/London") -> Meeting:
    return Meeting("M", "m", days, at, zone, conference_url="https://x")


def test_next_start_across_midnight_week_end_zones_and_dst() -> None:
    friday_night = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # Friday in London
    assert next_start(meeting((6,), "10:00"), friday_night) == datetime(
        2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday morning, after midnight
    assert next_start(meeting((5,), "19:00"), friday_night) == datetime(
        2026, 12, 4, 19, 0, tzinfo=UTC)  # this Friday's has gone: next week
    assert next_start(meeting((0,), "09:00"), datetime(2026, 11, 28, 9, 0, tzinfo=UTC)) == \
        datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # Sunday, across the week's end
    # A Sydney meeting on Saturday 10:00 is Friday 23:00 UTC (UTC+11 in summer).
    sydney = meeting((6,), "10:00", "Australia/Sydney")
    assert next_start(sydney, friday_night - timedelta(hours=1)).astimezone(UTC) == datetime(
        2026, 11, 27, 23, 0, tzinfo=UTC)
    # Across the spring change (29 March 2026): 19:00 stays 19:00 on the wall clock.
    before = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    assert next_start(meeting((1,), "19:00"), before).astimezone(UTC) == datetime(
        2026, 3, 30, 18, 0, tzinfo=UTC)


def test_nearest_first_within_reach() -> None:
    meetings, _ = load_files([EXAMPLE], "Europe/London")
    index = MeetingIndex(meetings)
    found = index.nearest(51.5074, -0.1278, count=5)  # Trafalgar Square
    assert len(found) == 5
    assert all(m.address.endswith("London") or "London" in m.address for m, _ in found)
    distances = [km for _, km in found]
    assert distances == sorted(distances) and distances[0] < 1
    manchester = index.nearest(53.4808, -2.2426, count=3)
    assert manchester[0][0].name == "SMART Recovery Manchester Central"
    assert index.nearest(64.1466, -21.9426) == []  # Reykjavik: nothing within 50 km


def test_online_meetings_by_next_start() -> None:
    meetings, _ = load_files([EXAMPLE], "Europe/London")
    upcoming = MeetingIndex(meetings).next_online(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 3)
    starts = [start for _, start in upcoming]
    assert starts == sorted(starts)
    assert upcoming[0][0].name == "SMART Recovery Online: Lunchtime"
