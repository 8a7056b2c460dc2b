"""The actions and conditions any dialog may use, whatever the tool: answers (save, clear,
answered, equals, says, at_least, below), the flow (start, end, resume, follow_up,
cancel_follow_ups, weekday), the journal, and forget_me. The SMART tools' own live in
bot/tools/."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from bot import formats
from bot.dialog.registry import (
    KEY,
    LOCAL_TIME,
    Check,
    CheckContext,
    Registry,
    answer_keys,
    as_list,
    check_key_numbers,
    check_key_values,
    check_keys,
    check_none,
    number,
    parse_duration,
)
from bot.dialog.turn import (
    CancelFollowUps,
    EndDialog,
    FollowUpRequest,
    ForgetMe,
    ResumeDialog,
    StartDialog,
    Turn,
)
from bot.hints import did_you_mean
from bot.reminders import next_due
from bot.storage.base import NewRecord

_WORD = re.compile(r"[\w']+")


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


def _check_journal(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or set(args) != {"kind", "keys"}:
        return ["expects {kind: name, keys: [answer keys]}"]
    problems = [] if isinstance(args["kind"], str) and KEY.match(args["kind"]) else [
        "kind: expects a name such as abc or urge"]
    if answer_keys(args["keys"]) is None:
        problems.append("keys: expects a list of answer keys")
    return problems


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _check_weekday(args: Any, ctx: CheckContext) -> list[str]:
    days = args if isinstance(args, list) else [args]
    if not days or any(str(d).lower() not in DAYS for d in days):
        return [f"expects days of the week, e.g. [sunday] (one of: {', '.join(DAYS)})"]
    return []


def _check_says(args: Any, ctx: CheckContext) -> list[str]:
    # Only named lists: a list written in place could not be translated.
    ok = isinstance(args, dict) and args and all(isinstance(v, str) for v in args.values())
    if not ok or answer_keys(list(args)) is None:
        return ["expects {answer key: name of a list under words:}, e.g. {reply: said_no} "
                "with words: {said_no: [no, nope, not really]} at the top of the dialog"]
    return [f"no list '{name}' under words:{did_you_mean(name, ctx.dialog.words)}"
            for name in args.values() if isinstance(name, str) and name not in ctx.dialog.words]


def _check_language(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, str) or not re.match(r"^[a-z]{2,3}$", args):
        return ["expects a language code, e.g. set_language: es"]
    return []


def _contains(text: str, words: list[str]) -> bool:
    spoken = " " + " ".join(_WORD.findall(text.lower().replace("\u2019", "'"))) + " "
    return any(f" {w.lower().strip()} " in spoken for w in words)



def _parts(item: Any) -> tuple[str, Any] | None:
    """A condition as written: a name, or {name: arguments}."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, dict) and len(item) == 1:
        ((name, args),) = item.items()
        return str(name), args
    return None


def _combining(reg: Registry, many: bool) -> Check:
    """The check of all/any (a list of conditions, many=True) or not (one condition)."""
    def check(args: Any, ctx: CheckContext) -> list[str]:
        items = args if many else [args]
        if many and (not isinstance(args, list) or not args):
            return ["expects a list of conditions, e.g. [{answered: mood}, {below: {mood: 3}}]"]
        problems = []
        for place, item in enumerate(items, 1):
            where = f"condition {place}: " if many else ""
            parts = _parts(item)
            if parts is None:
                problems.append(f"{where}expects a condition's name or {{name: arguments}}")
                continue
            name, inner = parts
            entry = reg.conditions.get(name)
            if entry is None:
                problems.append(f"{where}unknown condition '{name}'"
                                f"{did_you_mean(name, reg.conditions)}")
                continue
            problems += [f"{where}'{name}' {m}" for m in entry.check(inner, ctx)]
        return problems
    return check


def register(reg: Registry, timezone: str) -> None:
    """The generic actions and conditions; `timezone` for people who have not given theirs."""
    zone = ZoneInfo(timezone)

    def holds(turn: Turn, item: Any) -> bool:
        parts = _parts(item)
        assert parts is not None  # the validator's rule
        return bool(reg.conditions[parts[0]].fn(turn, parts[1]))

    @reg.condition("all", check=_combining(reg, many=True))
    def all_of(turn: Turn, args: list[Any]) -> bool:
        """True when every condition holds: all: [{answered: mood}, {below: {mood: 3}}]."""
        return all(holds(turn, item) for item in args)

    @reg.condition("any", check=_combining(reg, many=True))
    def any_of(turn: Turn, args: list[Any]) -> bool:
        """True when at least one condition holds: any: [{equals: {a: x}}, {equals: {b: x}}]."""
        return any(holds(turn, item) for item in args)

    @reg.condition("not", check=_combining(reg, many=False))
    def none_of(turn: Turn, args: Any) -> bool:
        """True when the condition does not hold: not: {answered: reason}."""
        return not holds(turn, args)

    @reg.action("save", check=check_key_values, saves=lambda a: [str(k) for k in a])
    def save(turn: Turn, args: dict[str, Any]) -> None:
        """Store fixed answers: save: {key: value}."""
        turn.answers.update({str(k): v for k, v in args.items()})

    @reg.action("clear", check=check_keys)
    def clear(turn: Turn, args: Any) -> None:
        """Forget answers, e.g. before a fresh run of an exercise: clear: [a, b]."""
        for key in as_list(args):
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

    @reg.action("set_language", check=_check_language)
    def set_language(turn: Turn, args: str) -> None:
        """Speak this language from now on (set_language: es), if the bot has it; the steps
        entered after this one already speak it."""
        if turn.languages is not None and turn.languages(args).code == args:
            turn.locale = args

    reg.facts["language_name"] = lambda ctx: formats.language_name(ctx.locale)

    @reg.action("journal", check=_check_journal)
    def journal(turn: Turn, args: dict[str, Any]) -> None:
        """Save answers as a journal entry: journal: {kind: abc, keys: [a, b, c]}."""
        keys = list(as_list(args["keys"]))
        turn.records.append(NewRecord(args["kind"], {k: turn.answers.get(k) for k in keys}))

    @reg.condition("answered", check=check_keys)
    def answered(turn: Turn, args: Any) -> bool:
        """True when every key given has an answer: answered: reason."""
        return all(turn.answers.get(k) not in (None, "") for k in as_list(args))

    @reg.condition("equals", check=check_key_values)
    def equals(turn: Turn, args: dict[str, Any]) -> bool:
        """True when each answer equals the value, or one of the values: equals:
        {went_well: yes}, equals: {crisis.signal: [suicide, risk]}."""
        return all(str(turn.answers.get(k)) in (map(str, v) if isinstance(v, list) else [str(v)])
                   for k, v in args.items())

    @reg.condition("says", check=_check_says)
    def says(turn: Turn, args: dict[str, str]) -> bool:
        """True when a typed answer contains one of the words or phrases of a list under the
        dialog's `words:`, in the person's language: says: {crisis.reply: not_safe} (whole
        words, any case)."""
        return any(_contains(str(turn.answers.get(k, "")), list(turn.word_list(name)))
                   for k, name in args.items())

    @reg.condition("weekday", check=_check_weekday)
    def weekday(turn: Turn, args: Any) -> bool:
        """True on these days, in the person's time zone: weekday: [sunday]."""
        local = turn.now.astimezone(ZoneInfo(turn.timezone) if turn.timezone else zone)
        return local.strftime("%A").lower() in [str(d).lower() for d in as_list(args)]

    @reg.condition("at_least", check=check_key_numbers)
    def at_least(turn: Turn, args: dict[str, float]) -> bool:
        """True when each answer is a number >= the value: at_least: {urge.before: 7}."""
        return all((n := number(turn.answers.get(k))) is not None and n >= v
                   for k, v in args.items())

    @reg.condition("below", check=check_key_numbers)
    def below(turn: Turn, args: dict[str, float]) -> bool:
        """True when each answer is a number < the value: below: {mood: 3}."""
        return all((n := number(turn.answers.get(k))) is not None and n < v
                   for k, v in args.items())

