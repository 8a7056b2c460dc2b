"""The daily check-in: `log_checkin` keeps the day's answers, one record per local day
(checking in again updates the day and keeps every note)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialog.registry import Registry, check_none, whole_number
from bot.dialog.turn import Turn
from bot.storage.base import NewRecord, Records

KIND = "checkin"


@dataclass(frozen=True, slots=True)
class CheckinEntry:
    day: date  # the person's local date
    mood: int | None = None  # 1-5
    urges: int | None = None  # 0-10
    went_well: str = ""  # "yes", "used", "rather not say"
    note: str = ""

    def then(self, later: CheckinEntry) -> CheckinEntry:
        """The day's check-in after a second one: how the day is going now (mood, urges, how
        it went: the later answers), and every note kept, in order."""
        notes = "\n".join(n for n in (self.note, later.note) if n)
        return replace(later, note=notes)


def _entry(day: str, data: dict[str, Any]) -> CheckinEntry:
    return CheckinEntry(date.fromisoformat(day), whole_number(data.get("mood")),
                        whole_number(data.get("urges")), str(data.get("went_well") or ""),
                        str(data.get("note") or ""))


def _data(entry: CheckinEntry) -> dict[str, Any]:
    return {"mood": entry.mood, "urges": entry.urges, "went_well": entry.went_well,
            "note": entry.note}


def _same_day(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    day = date.min.isoformat()  # the day is the record's key; the merge does not need it
    return _data(_entry(day, earlier).then(_entry(day, later)))


def checkins_of(store: Records, user_id: int, since: date) -> list[CheckinEntry]:
    """The person's check-ins from `since` on, oldest first."""
    records = store.records(user_id, KIND, since_key=since.isoformat())
    return sorted((_entry(r.key or "", r.data) for r in records if r.key),
                  key=lambda c: c.day)


def register(reg: Registry, timezone: str) -> None:
    zone = ZoneInfo(timezone)

    @reg.action("log_checkin", check=check_none,
                saves=lambda a: ["checkin.again", "checkin.day"])
    def log_checkin(turn: Turn, args: None) -> None:
        """Record today's check-in from checkin.mood, checkin.urges, checkin.went_well and
        checkin.note. One per local day: checking in again updates the day (its notes are
        all kept), and checkin.again says so to the dialog."""
        a = turn.answers
        day = turn.now.astimezone(ZoneInfo(turn.timezone) if turn.timezone else zone).date()
        a["checkin.again"] = a.get("checkin.day") == day.isoformat()
        a["checkin.day"] = day.isoformat()
        entry = CheckinEntry(day, whole_number(a.get("checkin.mood")),
                             whole_number(a.get("checkin.urges")),
                             str(a.get("checkin.went_well") or ""),
                             str(a.get("checkin.note") or ""))
        turn.records.append(NewRecord(KIND, _data(entry), key=day.isoformat(),
                                      merge=_same_day))
