"""The urge log (SMART's urge log): `log_urge` keeps an urge from the urge dialog's
answers; {urge_log} lists the latest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dialog.registry import FactContext, Registry, check_none, whole_number
from bot.dialog.turn import Turn
from bot.formats import day_and_time
from bot.storage.base import NewRecord, Records

KIND = "urge"
# The record's fields and the answers they come from.
FIELDS = {"before": "urge.before", "after": "urge.after", "trigger": "urge.trigger",
          "place": "urge.place", "coping": "urge.coping", "used": "urge.used",
          "next_time": "urge.next_time"}


@dataclass(frozen=True, slots=True)
class UrgeEntry:
    """One urge in the urge log. Strengths are 0-10."""

    at: datetime
    strength_before: int | None = None
    strength_after: int | None = None
    trigger: str = ""
    place: str = ""  # where, and with whom
    coping: str = ""  # what they did, what helped
    used: str = ""  # "no", "yes", "rather not say": never judged
    next_time: str = ""  # an idea for next time


def urges_of(store: Records, user_id: int, limit: int = 10) -> list[UrgeEntry]:
    """The person's latest urges, newest first."""
    return [UrgeEntry(r.at, whole_number(r.data.get("before")),
                      whole_number(r.data.get("after")),
                      *(str(r.data.get(f) or "") for f in
                        ("trigger", "place", "coping", "used", "next_time")))
            for r in store.records(user_id, KIND, limit=limit)]


TEXTS: dict[str, tuple[str, ...]] = {
    "urge_helped": ("coping",), "urge_used": ("used",), "urge_log_empty": ()}


def register(reg: Registry, timezone: str) -> None:
    zone = ZoneInfo(timezone)
    reg.needs_texts(**TEXTS)

    def urge_log(ctx: FactContext) -> str:
        # "used" is a button's value ("rather not say"): as it reads in their language.
        values = ctx.translation.values if ctx.translation else {}
        lines = []
        for urge in urges_of(ctx.store, ctx.user_id, limit=7):
            when = day_and_time(urge.at.astimezone(zone), ctx.locale)
            strength = " → ".join(str(s) for s in (urge.strength_before, urge.strength_after)
                                  if s is not None)
            parts = [when, strength, urge.trigger,
                     urge.coping and ctx.text("urge_helped", coping=urge.coping),
                     urge.used and ctx.text("urge_used", used=values.get(urge.used, urge.used))]
            lines.append("• " + " · ".join(p for p in parts if p))
        return "\n".join(lines) or ctx.text("urge_log_empty")

    reg.facts["urge_log"] = urge_log

    @reg.action("log_urge", check=check_none)
    def log_urge(turn: Turn, args: None) -> None:
        """Add the urge to the urge log, from the answers urge.before, urge.after,
        urge.trigger, urge.place, urge.coping, urge.used and urge.next_time."""
        a = turn.answers
        data: dict[str, object] = {name: str(a.get(key) or "") for name, key in FIELDS.items()}
        data["before"] = whole_number(a.get(FIELDS["before"]))
        data["after"] = whole_number(a.get(FIELDS["after"]))
        turn.records.append(NewRecord(KIND, data))
