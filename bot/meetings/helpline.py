"""The helpline's opening hours: "Mon-Fri 09:00-17:00; Sat 10:00-14:00" or "24/7"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*([a-z]{3})[a-z]*(?:\s*-\s*([a-z]{3})[a-z]*)?\s+"
                   r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Opening:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


def parse_hours(text: str) -> list[Opening] | None:
    """Openings, or None for always open ("24/7"). Raises ValueError naming the bad part."""
    if text.strip().lower() in ("24/7", "24x7", "always"):
        return None
    openings = []
    for part in text.split(";"):
        match = _SPAN.match(part)
        if not match or match.group(1).lower() not in DAYS:
            raise ValueError(f"'{part.strip()}' is not like 'Mon-Fri 09:00-17:00'")
        first = DAYS.index(match.group(1).lower())
        last = DAYS.index((match.group(2) or match.group(1)).lower())
        days = frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))
        start, end = (time.fromisoformat(t.zfill(5)) for t in match.group(3, 4))
        openings.append(Opening(days, start, end))
    return openings


def is_open(openings: list[Opening] | None, local: datetime) -> bool:
    if openings is None:
        return True
    return any(local.weekday() in o.days and o.start <= local.time() < o.end for o in openings)


def next_opening(openings: list[Opening], local: datetime) -> datetime:
    """The next moment the helpline opens, after `local` (aware, in the helpline's zone)."""
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        starts = sorted(o.start for o in openings if day.weekday() in o.days)
        for start in starts:
            moment = datetime.combine(day, start, tzinfo=local.tzinfo)
            if moment > local:
                return moment
    raise ValueError("the helpline never opens")
