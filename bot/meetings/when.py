"""When someone wants a meeting ("tonight", "tomorrow", "on Saturday", "this morning",
"now"): the words, and the stretch of their own local time they mean."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.meetings.model import DAY_NAMES

SOON = timedelta(hours=2)  # "now": starting within this
_DAYS = "|".join(DAY_NAMES)
_WHEN = re.compile(r"\b(tonight|this evening|this morning|this afternoon|today|tomorrow|"
                   rf"right now|now|(?:on |this |next )?(?:{_DAYS})s?)\b", re.IGNORECASE)


def when_asked(text: str) -> str | None:
    """The time asked about, as a key: tonight, morning, afternoon, today, tomorrow, now or
    a day's name; None when the text names none."""
    match = _WHEN.search(text)
    if not match:
        return None
    said = match.group(1).lower()
    for word, key in (("evening", "tonight"), ("tonight", "tonight"), ("morning", "morning"),
                      ("afternoon", "afternoon"), ("today", "today"),
                      ("tomorrow", "tomorrow"), ("now", "now")):
        if word in said:
            return key
    return next(day for day in DAY_NAMES if day in said)


def window(when: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in now's zone for a key of when_asked."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    if when == "now":
        return now - timedelta(minutes=15), now + SOON  # just started counts too
    if when == "today":
        return now, midnight + day
    if when == "tonight":
        return max(now, midnight.replace(hour=17)), midnight + day
    if when == "morning":
        return now, midnight.replace(hour=12)
    if when == "afternoon":
        return max(now, midnight.replace(hour=12)), midnight.replace(hour=17)
    if when == "tomorrow":
        return midnight + day, midnight + 2 * day
    ahead = (DAY_NAMES.index(when) - (now.weekday() + 1) % 7) % 7  # 0 = Sunday
    start = midnight + ahead * day
    return max(now, start), start + day


def words(when: str) -> str:
    """How the heading says it: "tonight", "on Saturday", "this morning"."""
    return {"morning": "this morning", "afternoon": "this afternoon", "now": "now or starting soon"
            }.get(when, when if when in ("tonight", "today", "tomorrow")
                  else f"on {when.capitalize()}")
