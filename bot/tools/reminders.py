"""The daily check-in time: `set_reminder` ("20:30 Leeds", "off"), `find_zone` (a time zone
from a place, a zone name or a shared location) and {reminder_setting}."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from bot import places
from bot.dialog.registry import (
    CheckContext,
    FactContext,
    Registry,
    answer_keys,
    check_in_save,
)
from bot.dialog.turn import SetReminder, Turn
from bot.formats import clock
from bot.nlu.words import Words
from bot.reminders import Said, next_due, parse_request


def _check_set_reminder(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or "from" not in args or not set(args) <= {"from", "zone"} \
            or answer_keys(list(args.values())) is None:
        return ["expects {from: answer key} and optionally zone: answer key"]
    return []



TEXTS: dict[str, tuple[str, ...]] = {
    "reminder_off": (), "reminder_daily": ("time", "zone"), "reminder_next_today": ("time",),
    "reminder_next_tomorrow": ("time",)}


def said(words: Words | None) -> Said:
    """The request's words in the person's language (dialogs/words/<language>.yaml)."""
    words = words or Words()
    return Said(*(words.phrases("reminder", name) for name in ("off", "am", "pm")))


def _clock(local_time: str, language: str) -> str:
    return clock(time.fromisoformat(local_time), language)


def register(reg: Registry) -> None:
    reg.needs_texts(**TEXTS)

    def reminder_setting(ctx: FactContext) -> str:
        reminder = ctx.store.reminder(ctx.user_id)
        if reminder is None:
            return ctx.text("reminder_off")
        return ctx.text("reminder_daily", time=_clock(reminder.local_time, ctx.locale),
                        zone=reminder.zone)

    reg.facts["reminder_setting"] = reminder_setting

    @reg.action("set_reminder", check=_check_set_reminder,
                saves=lambda a: ["reminder.status", "reminder.time", "reminder.zone",
                                 "reminder.next"])
    def set_reminder(turn: Turn, args: dict[str, str]) -> None:
        """Read "20:30 Europe/London" / "off" from an answer: set reminder.status (set, off,
        show, bad_time, bad_zone, need_zone), reminder.time, reminder.zone, reminder.next;
        and set or stop the daily check-in. A zone already found (answer `zone`) or known
        for the person is used when the text names none."""
        text = str(turn.answers.get(args["from"], "") or "")
        known = str(turn.answers.get(args.get("zone", ""), "") or "") or turn.timezone
        request = parse_request(text, known, said(turn.words),
                                places.zone_for)  # "London" works as well
        turn.answers["reminder.status"] = request.status
        if request.local_time:
            turn.answers["reminder.time"] = request.local_time
        if request.status == "set":
            turn.answers["reminder.zone"] = request.zone
            due = next_due(request.local_time, request.zone, turn.now)
            local = due.astimezone(ZoneInfo(request.zone))
            today = turn.now.astimezone(ZoneInfo(request.zone)).date()
            when = "today" if local.date() == today else "tomorrow"
            turn.answers["reminder.next"] = turn.text(
                f"reminder_next_{when}", time=_clock(request.local_time, turn.locale))
            turn.effects.append(SetReminder(request.local_time, request.zone))
        elif request.status == "off":
            turn.effects.append(SetReminder(None))

    @reg.action("find_zone", check=check_in_save, saves=lambda a: [a["save"]])
    def find_zone(turn: Turn, args: dict[str, str]) -> None:
        """A time zone from a typed place or zone name, or a shared location:
        find_zone: {in: answer, save: answer}. Nothing found: the key is cleared."""
        given = turn.answers.get(args["in"])
        if isinstance(given, dict) and "latitude" in given:
            found = places.zone_at(float(given["latitude"]), float(given["longitude"]))
        else:
            found = places.zone_for(str(given or ""))
        if found:
            turn.answers[args["save"]] = found
        else:
            turn.answers.pop(args["save"], None)

