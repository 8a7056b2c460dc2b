"""Check-in times: parsing /reminder, and the next due moment across time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.reminders import ReminderRequest, Said, next_due, parse_request, parse_time

# The English words of dialogs/words/en.yaml's reminder section that these cases use.
ENGLISH = Said(off=("off", "stop", "none", "cancel"), am=("am",), pm=("pm",))


@pytest.mark.parametrize("text,expected", [
    ("20:30", "20:30"), ("8:05", "08:05"), ("8.30pm", "20:30"), ("7am", "07:00"),
    ("12am", "00:00"), ("12pm", "12:00"), ("0730", "07:30"), ("21h15", "21:15"),
    ("25:00", None), ("20:61", None), ("13pm", None), ("soon", None), ("", None),
])
def test_times_of_day(text: str, expected: str | None) -> None:
    assert parse_time(text, ENGLISH) == expected


def test_requests() -> None:
    assert parse_request("", None, ENGLISH) == ReminderRequest("show")
    assert parse_request("off", "Europe/London", ENGLISH) == ReminderRequest("off")
    assert parse_request("20:30 Europe/London", None, ENGLISH) == ReminderRequest(
        "set", "20:30", "Europe/London")
    assert parse_request("20:30 europe/london", None, ENGLISH).zone == "Europe/London"
    assert parse_request("20:30", "Asia/Tokyo", ENGLISH) == ReminderRequest(
        "set", "20:30", "Asia/Tokyo")
    assert parse_request("20:30", None, ENGLISH) == ReminderRequest("need_zone", "20:30")
    assert parse_request("25:00 Europe/London", None, ENGLISH).status == "bad_time"
    assert parse_request("20:30 Mars/Olympus", None, ENGLISH) == ReminderRequest(
        "bad_zone", "20:30")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("zone,after,expected", [
    # East of UTC: 20:30 in Tokyo (UTC+9) is 11:30 UTC.
    ("Asia/Tokyo", utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 11, 30)),
    ("Asia/Tokyo", utc(2026, 6, 1, 11, 30), utc(2026, 6, 2, 11, 30)),  # strictly after
    # West of UTC: 20:30 in New York (UTC-4 in summer) is 00:30 UTC the next day.
    ("America/New_York", utc(2026, 6, 1, 12, 0), utc(2026, 6, 2, 0, 30)),
    ("America/New_York", utc(2026, 1, 15, 12, 0), utc(2026, 1, 16, 1, 30)),  # UTC-5 in winter
    # London, either side of the spring change (29 March 2026) and the autumn one (25 Oct).
    ("Europe/London", utc(2026, 3, 28, 21, 0), utc(2026, 3, 29, 19, 30)),
    ("Europe/London", utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 20, 30)),
])
def test_next_due_east_west_and_dst(zone: str, after: datetime, expected: datetime) -> None:
    assert next_due("20:30", zone, after) == expected


def test_a_time_skipped_when_clocks_go_forward_happens_right_after_the_gap() -> None:
    # 01:30 does not exist in London on 29 March 2026: 01:00 GMT jumps to 02:00 BST.
    assert next_due("01:30", "Europe/London", utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)
    assert next_due("01:30", "Europe/London", utc(2026, 3, 29, 2, 0)) == utc(2026, 3, 30, 0, 30)


def test_a_time_repeated_when_clocks_go_back_happens_once() -> None:
    # 01:30 happens twice in London on 25 October 2026 (BST, then GMT): only the first counts.
    first = next_due("01:30", "Europe/London", utc(2026, 10, 24, 12, 0))
    assert first == utc(2026, 10, 25, 0, 30)
    assert next_due("01:30", "Europe/London", first) == utc(2026, 10, 26, 1, 30)
