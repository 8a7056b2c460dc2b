"""The named actions and conditions a dialog file may use.

Names in YAML resolve only through a Registry passed in explicitly: never through an
import path (transitions would import a dotted name it cannot find on the model), and
never through a module-level singleton. Each entry also checks its own arguments, so
`smart-coach validate` reports a bad argument with its file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import places, progress
from bot.config import CrisisConfig, HelplineConfig
from bot.dialog.hints import did_you_mean
from bot.dialog.spec import DialogSpec
from bot.dialog.turn import (
    CancelFollowUps,
    EndDialog,
    FollowUpRequest,
    ForgetMe,
    RecordCheckin,
    ResumeDialog,
    SetReminder,
    StartDialog,
    Turn,
)
from bot.events import Venue
from bot.meetings import facts as meeting_facts
from bot.meetings.load import example_index
from bot.meetings.search import MeetingIndex
from bot.reminders import next_due, parse_request
from bot.safety import facts as safety_facts
from bot.safety.lines import CountryLines, load_lines
from bot.storage.base import CheckinEntry, Store, UrgeEntry

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
DURATION = re.compile(r"^(\d+)\s*([smhd])$")
LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What an argument check may look at: the dialog it is in and every dialog's name."""

    dialog: DialogSpec
    dialog_names: frozenset[str]


Check = Callable[[Any, CheckContext], list[str]]


def _no_check(args: Any, ctx: CheckContext) -> list[str]:
    return []


def _no_targets(args: Any) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class Entry:
    fn: Callable[..., Any]
    check: Check = _no_check
    # States of the same dialog the entry can lead to (for reachability checks).
    targets: Callable[[Any], list[str]] = _no_targets
    # Answer keys the entry saves (so the validator knows placeholders using them are filled).
    saves: Callable[[Any], list[str]] = _no_targets


@dataclass(frozen=True, slots=True)
class FactContext:
    """What a fact, a picture or a venue may look at: read-only."""

    store: Store
    user_id: int
    now: datetime
    answers: Mapping[str, Any]
    timezone: str | None = None  # the person's, once known
    language: str | None = None  # as their app reports it ("en-GB")


# A value computed for messages, e.g. {crisis_numbers} or {urge_log}.
Fact = Callable[[FactContext], str]
@dataclass(frozen=True)
class Picture:
    """A picture a step can send (`photo:`), e.g. the progress chart: `gather` runs in the
    step (quick: the data), `draw` later, off the engine thread (slow: the PNG)."""

    gather: Callable[[FactContext], Any]  # JSON-able
    draw: Callable[[Any], bytes]


# A place a step can send on a map (`venue:`), e.g. the nearest meeting; None: nothing to show.
VenueFact = Callable[[FactContext], Venue | None]
# A file a step can send (`document:`), e.g. the person's data export: (name, content).
DocumentFact = Callable[[FactContext], tuple[str, bytes]]


@dataclass
class Registry:
    actions: dict[str, Entry] = field(default_factory=dict)
    conditions: dict[str, Entry] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    pictures: dict[str, Picture] = field(default_factory=dict)
    venues: dict[str, VenueFact] = field(default_factory=dict)
    documents: dict[str, DocumentFact] = field(default_factory=dict)

    def action(self, name: str, *, check: Check = _no_check,
               targets: Callable[[Any], list[str]] = _no_targets,
               saves: Callable[[Any], list[str]] = _no_targets) -> Callable[..., Any]:
        def register(fn: Callable[[Turn, Any], None]) -> Callable[[Turn, Any], None]:
            self.actions[name] = Entry(fn, check, targets, saves)
            return fn
        return register

    def condition(self, name: str, *, check: Check = _no_check) -> Callable[..., Any]:
        def register(fn: Callable[[Turn, Any], bool]) -> Callable[[Turn, Any], bool]:
            self.conditions[name] = Entry(fn, check)
            return fn
        return register


def parse_duration(text: Any) -> timedelta | None:
    """'15m', '2h', '30s', '1d' -> timedelta; None when it is not one of these."""
    match = DURATION.match(str(text).strip())
    if not match:
        return None
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


# -- argument checks -------------------------------------------------------------------

def _keys(args: Any) -> list[str] | None:
    items = args if isinstance(args, list) else [args]
    return items if all(isinstance(k, str) and KEY.match(k) for k in items) else None


def _check_keys(args: Any, ctx: CheckContext) -> list[str]:
    if _keys(args) is None:
        return ["expects an answer key or a list of keys, e.g. reason or [urge.before, urge.after]"]
    return []


def _check_key_values(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or not args:
        return ["expects {key: value}, e.g. {mood: good}"]
    return [f"'{k}' is not a valid answer key" for k in args if not KEY.match(str(k))]


def _check_key_numbers(args: Any, ctx: CheckContext) -> list[str]:
    problems = _check_key_values(args, ctx)
    if not problems and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in args.values()):
        problems.append("expects {key: number}, e.g. {urge.before: 7}")
    return problems


def _check_follow_up(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or set(args) not in ({"after", "go"}, {"at", "go"}):
        return ["expects {after: 15m, go: state} or {at: \"09:00\", go: state}"]
    problems = []
    if "after" in args and parse_duration(args["after"]) is None:
        problems.append(f"after: '{args['after']}' is not a duration like 30s, 15m, 2h or 1d")
    if "at" in args and not LOCAL_TIME.match(str(args["at"])):
        problems.append(f"at: '{args['at']}' is not a time of day like \"09:00\" (in quotes)")
    if args["go"] not in ctx.dialog.states:
        problems.append(f"go: unknown state '{args['go']}'"
                        f"{did_you_mean(args['go'], ctx.dialog.states)}")
    return problems


def _check_start(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, str):
        return ["expects a dialog name, e.g. start: help"]
    if args not in ctx.dialog_names:
        return [f"unknown dialog '{args}'"]
    return []


def check_none(args: Any, ctx: CheckContext) -> list[str]:
    return [] if args is None else ["takes no arguments"]


def _check_journal(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or set(args) != {"kind", "keys"}:
        return ["expects {kind: name, keys: [answer keys]}"]
    problems = [] if isinstance(args["kind"], str) and KEY.match(args["kind"]) else [
        "kind: expects a name such as abc or urge"]
    if _keys(args["keys"]) is None:
        problems.append("keys: expects a list of answer keys")
    return problems


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_list(args: Any) -> Iterable[str]:
    return args if isinstance(args, list) else [args]


# -- the default registry ----------------------------------------------------------------

ABSOLUTES = ("must", "mustn't", "should", "shouldn't", "have to", "has to", "got to",
             "can't", "cannot", "ought", "always", "never", "need", "needs", "awful",
             "terrible", "horrible", "unbearable", "everyone", "nobody", "nothing")
_ABSOLUTE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ABSOLUTES) + r")\b",
                       re.IGNORECASE)
_WORD = re.compile(r"[\w']+")
URGE_FIELDS = {"before": "urge.before", "after": "urge.after", "trigger": "urge.trigger",
               "place": "urge.place", "coping": "urge.coping", "used": "urge.used",
               "next_time": "urge.next_time"}


def absolutes(text: str) -> list[str]:
    """The absolute words in a belief ("I must", "always", "unbearable"), in order, once."""
    found = [m.group(1).lower().replace("’", "'") for m in _ABSOLUTE.finditer(text)]
    return list(dict.fromkeys(found))


def check_in_save(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or set(args) != {"in", "save"} or \
            _keys([args["in"], args["save"]]) is None:
        return ["expects {in: answer key, save: answer key}"]
    return []


def _check_set_reminder(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or "from" not in args or not set(args) <= {"from", "zone"} \
            or _keys(list(args.values())) is None:
        return ["expects {from: answer key} and optionally zone: answer key"]
    return []


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _check_weekday(args: Any, ctx: CheckContext) -> list[str]:
    days = args if isinstance(args, list) else [args]
    if not days or any(str(d).lower() not in DAYS for d in days):
        return [f"expects days of the week, e.g. [sunday] (one of: {', '.join(DAYS)})"]
    return []


def _check_says(args: Any, ctx: CheckContext) -> list[str]:
    ok = isinstance(args, dict) and args and all(
        isinstance(v, list) and v and all(isinstance(w, str) for w in v) for v in args.values())
    return [] if ok and _keys(list(args)) is not None else [
        "expects {answer key: [words or phrases]}, e.g. {reply: [no, not really]}"]


def _contains(text: str, words: list[str]) -> bool:
    spoken = " " + " ".join(_WORD.findall(text.lower().replace("\u2019", "'"))) + " "
    return any(f" {w.lower().strip()} " in spoken for w in words)


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else round(number)


def default_registry(crisis: CrisisConfig | None = None,
                     timezone: str = "UTC", meetings: MeetingIndex | None = None,
                     helplines: tuple[HelplineConfig, ...] = (),
                     country: str = "GB",
                     crisis_lines: dict[str, CountryLines] | None = None) -> Registry:
    """A fresh registry with smart-coach's built-in actions, conditions and facts. Without a
    meeting index, the example list that ships with the bot is used; without a table of
    crisis lines, the one that ships with it."""
    reg = Registry()
    zone = ZoneInfo(timezone)
    meeting_facts.register(reg, meetings or example_index(), helplines, timezone, country)
    lines = crisis_lines or load_lines()
    safety_facts.register(reg, crisis or CrisisConfig(), lines)

    def urge_log(ctx: FactContext) -> str:
        lines = []
        for urge in ctx.store.urges(ctx.user_id, limit=7):
            when = urge.at.astimezone(zone).strftime("%a %d %b, %H:%M")
            strength = " → ".join(str(s) for s in (urge.strength_before, urge.strength_after)
                                  if s is not None)
            parts = [when, strength, urge.trigger, urge.coping and f"helped: {urge.coping}",
                     urge.used and f"used: {urge.used}"]
            lines.append("• " + " · ".join(p for p in parts if p))
        return "\n".join(lines) or "(nothing logged yet)"

    def local_today(ctx: FactContext) -> date:
        user_zone = ctx.store.load_user(ctx.user_id).timezone
        return ctx.now.astimezone(ZoneInfo(user_zone) if user_zone else zone).date()

    def reminder_setting(ctx: FactContext) -> str:
        reminder = ctx.store.reminder(ctx.user_id)
        if reminder is None:
            return "off"
        return f"every day at {reminder.local_time} ({reminder.zone})"

    def progress_summary(ctx: FactContext) -> str:
        today = local_today(ctx)
        since = today - timedelta(days=progress.DAYS - 1)
        return progress.summary(ctx.store.checkins(ctx.user_id, since),
                                ctx.store.urges(ctx.user_id, 100), today)

    def progress_chart(ctx: FactContext) -> dict[str, Any]:
        today = local_today(ctx)
        since = today - timedelta(days=progress.DAYS - 1)
        return progress.chart_data(ctx.store.checkins(ctx.user_id, since), today)

    def export_document(ctx: FactContext) -> tuple[str, bytes]:
        data = {"exported_at": ctx.now.isoformat(timespec="seconds"),
                "user_id": ctx.user_id, **ctx.store.export(ctx.user_id)}
        return "smart-coach-data.json", json.dumps(data, indent=2, default=str).encode()

    def export_summary(ctx: FactContext) -> str:
        data = ctx.store.export(ctx.user_id)
        names = {"answers": "answers", "journal": "journal entries", "urges": "urges logged",
                 "checkins": "check-ins", "reminders": "daily check-in times",
                 "followups": "follow-ups waiting"}
        return "\n".join(f"• {label}: {len(data.get(table, []))}"
                         for table, label in names.items())

    reg.documents["export"] = export_document
    reg.facts["export_summary"] = export_summary
    reg.facts["urge_log"] = urge_log
    reg.facts["reminder_setting"] = reminder_setting
    reg.facts["progress_summary"] = progress_summary
    reg.pictures["progress_chart"] = Picture(progress_chart, progress.draw)

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
        request = parse_request(text, known, places.zone_for)  # "London" works as well
        turn.answers["reminder.status"] = request.status
        if request.local_time:
            turn.answers["reminder.time"] = request.local_time
        if request.status == "set":
            turn.answers["reminder.zone"] = request.zone
            due = next_due(request.local_time, request.zone, turn.now)
            local = due.astimezone(ZoneInfo(request.zone))
            today = turn.now.astimezone(ZoneInfo(request.zone)).date()
            when = "today" if local.date() == today else "tomorrow"
            turn.answers["reminder.next"] = f"{when} at {request.local_time}"
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
        turn.effects.append(RecordCheckin(CheckinEntry(
            day, _int(a.get("checkin.mood")), _int(a.get("checkin.urges")),
            str(a.get("checkin.went_well") or ""), str(a.get("checkin.note") or ""))))

    @reg.action("save", check=_check_key_values, saves=lambda a: [str(k) for k in a])
    def save(turn: Turn, args: dict[str, Any]) -> None:
        """Store fixed answers: save: {key: value}."""
        turn.answers.update({str(k): v for k, v in args.items()})

    @reg.action("clear", check=_check_keys)
    def clear(turn: Turn, args: Any) -> None:
        """Forget answers, e.g. before a fresh run of an exercise: clear: [a, b]."""
        for key in _as_list(args):
            turn.answers.pop(key, None)

    @reg.action("follow_up", check=_check_follow_up, targets=lambda a: [a["go"]])
    def follow_up(turn: Turn, args: dict[str, Any]) -> None:
        """Come back later: follow_up: {after: 15m, go: recheck}, or at the next time of
        day in the person's time zone: follow_up: {at: "09:00", go: checkback}."""
        if "at" in args:
            due = next_due(str(args["at"]), turn.timezone or timezone, turn.now)
        else:
            delay = parse_duration(args["after"])
            assert delay is not None  # checked by the validator
            due = turn.now + delay
        turn.effects.append(FollowUpRequest(due, turn.dialog.name, args["go"]))

    @reg.action("start", check=_check_start)
    def start(turn: Turn, args: str) -> None:
        """Open another dialog after this step: start: help."""
        turn.effects.append(StartDialog(args))

    @reg.action("end", check=check_none)
    def end(turn: Turn, args: None) -> None:
        """End the dialog after this step."""
        turn.effects.append(EndDialog())

    @reg.action("cancel_follow_ups", check=check_none)
    def cancel_follow_ups(turn: Turn, args: None) -> None:
        """Drop this dialog's pending follow-ups, e.g. a check-back from an earlier urge."""
        turn.effects.append(CancelFollowUps(turn.dialog.name))

    @reg.action("forget_me", check=check_none)
    def forget_me(turn: Turn, args: None) -> None:
        """Delete everything stored about this person, at the end of this step."""
        turn.effects.append(ForgetMe())

    @reg.action("resume", check=check_none)
    def resume(turn: Turn, args: None) -> None:
        """Go back to the step a crisis interrupted (or end, if there was none)."""
        turn.effects.append(ResumeDialog())

    @reg.action("log_urge", check=check_none)
    def log_urge(turn: Turn, args: None) -> None:
        """Add the urge to the urge log, from the answers urge.before, urge.after,
        urge.trigger, urge.place, urge.coping, urge.used and urge.next_time."""
        a = {field: turn.answers.get(key) for field, key in URGE_FIELDS.items()}
        turn.urges.append(UrgeEntry(
            turn.now, _int(a["before"]), _int(a["after"]), str(a["trigger"] or ""),
            str(a["place"] or ""), str(a["coping"] or ""), str(a["used"] or ""),
            str(a["next_time"] or "")))

    @reg.action("set_country", check=check_in_save, saves=lambda a: [a["save"]])
    def set_country(turn: Turn, args: dict[str, str]) -> None:
        """A country of the crisis-lines table from a typed name or code ("Ireland", "ie"):
        set_country: {in: answer, save: answer}. Not found: the key is cleared."""
        found = safety_facts.find_country(str(turn.answers.get(args["in"], "") or ""), lines)
        if found:
            turn.answers[args["save"]] = found
        else:
            turn.answers.pop(args["save"], None)

    @reg.action("find_absolutes", check=check_in_save, saves=lambda a: [a["save"]])
    def find_absolutes(turn: Turn, args: dict[str, str]) -> None:
        """Save the absolute words of an answer: find_absolutes: {in: abc.b, save: abc.words}.
        Nothing found: the key is cleared, so `answered` tells whether there were any."""
        words = absolutes(str(turn.answers.get(args["in"], "")))
        if words:
            turn.answers[args["save"]] = ", ".join(f'"{w}"' for w in words)
        else:
            turn.answers.pop(args["save"], None)

    @reg.action("journal", check=_check_journal)
    def journal(turn: Turn, args: dict[str, Any]) -> None:
        """Save answers as a journal entry: journal: {kind: abc, keys: [a, b, c]}."""
        keys = list(_as_list(args["keys"]))
        turn.journal.append((args["kind"], {k: turn.answers.get(k) for k in keys}))

    @reg.condition("answered", check=_check_keys)
    def answered(turn: Turn, args: Any) -> bool:
        """True when every key given has an answer: answered: reason."""
        return all(turn.answers.get(k) not in (None, "") for k in _as_list(args))

    @reg.condition("equals", check=_check_key_values)
    def equals(turn: Turn, args: dict[str, Any]) -> bool:
        """True when each answer equals the value: equals: {went_well: yes}."""
        return all(str(turn.answers.get(k)) == str(v) for k, v in args.items())

    @reg.condition("says", check=_check_says)
    def says(turn: Turn, args: dict[str, list[str]]) -> bool:
        """True when a typed answer contains one of the words or phrases:
        says: {crisis.reply: [no, not, unsafe]} (whole words, any case)."""
        return any(_contains(str(turn.answers.get(k, "")), words) for k, words in args.items())

    @reg.condition("weekday", check=_check_weekday)
    def weekday(turn: Turn, args: Any) -> bool:
        """True on these days, in the person's time zone: weekday: [sunday]."""
        local = turn.now.astimezone(ZoneInfo(turn.timezone) if turn.timezone else zone)
        return local.strftime("%A").lower() in [str(d).lower() for d in _as_list(args)]

    @reg.condition("at_least", check=_check_key_numbers)
    def at_least(turn: Turn, args: dict[str, float]) -> bool:
        """True when each answer is a number >= the value: at_least: {urge.before: 7}."""
        return all((n := _number(turn.answers.get(k))) is not None and n >= v
                   for k, v in args.items())

    @reg.condition("below", check=_check_key_numbers)
    def below(turn: Turn, args: dict[str, float]) -> bool:
        """True when each answer is a number < the value: below: {mood: 3}."""
        return all((n := _number(turn.answers.get(k))) is not None and n < v
                   for k, v in args.items())

    return reg
