"""When someone wants a meeting ("tonight", "tomorrow", "on Saturday", "this morning",
"now"; "esta noche", "el sábado"): the words, read with the person's language's list
(dialogs/words/<language>.yaml, `when:`), the stretch of their own local time they mean, and
how a heading says it (messages.yaml texts when_*)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.formats import Say, day_name
from bot.meetings.model import DAY_NAMES
from bot.phrases import Lists, alternatives, plain

SOON = timedelta(hours=2)  # "now": starting within this
KEYS = ("tonight", "morning", "afternoon", "today", "tomorrow", "now", *DAY_NAMES)
BEFORE = "before"  # the list of words that go before a day ("on", "this", "next")
SECTION = "when"
TEXTS: dict[str, tuple[str, ...]] = {
    "when_tonight": (), "when_morning": (), "when_afternoon": (), "when_today": (),
    "when_tomorrow": (), "when_now": (), "when_day": ("day",)}


def _pattern(words: Lists) -> tuple[re.Pattern[str], dict[str, str]]:
    said = {plain(" ".join(p.split())): key for key in KEYS
            for p in words.phrases(SECTION, key)}
    before = alternatives(words.phrases(SECTION, BEFORE))
    return re.compile(rf"(?<!\w)(?:(?:{before})\s+)?({alternatives(said)})(?!\w)",
                      re.IGNORECASE), said


def when_asked(text: str, words: Lists) -> str | None:
    """The time asked about, as a key: tonight, morning, afternoon, today, tomorrow, now or
    a day's name; None when the text names none."""
    pattern, said = _pattern(words)
    match = pattern.search(text)
    return said.get(plain(" ".join(match.group(1).split()))) if match else None


def without_when(text: str, words: Lists) -> str:
    """The text with the time asked about taken out ("near Leeds tonight" -> "near Leeds")."""
    return _pattern(words)[0].sub("", text)


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


def words(when: str, say: Say, language: str) -> str:
    """How the heading says it: "tonight", "on Saturday", "this morning"."""
    if when in DAY_NAMES:
        return say("when_day", day=day_name((DAY_NAMES.index(when) - 1) % 7, language))
    return say(f"when_{when}")
