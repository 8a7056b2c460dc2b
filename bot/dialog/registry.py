"""The named actions and conditions a dialog file may use.

Names in YAML resolve only through a Registry passed in explicitly: never through an
import path (transitions would import a dotted name it cannot find on the model), and
never through a module-level singleton. Each entry also checks its own arguments, so
`smart-coach validate` reports a bad argument with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.dialog.render import fill
from bot.dialog.spec import SOURCE_LANGUAGE, DialogSpec, Translation
from bot.dialog.turn import Turn
from bot.events import Venue
from bot.storage.base import NewRecord, Record, Records

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

    store: Records  # read-only
    user_id: int
    now: datetime
    answers: Mapping[str, Any]
    timezone: str | None = None  # the person's, once known
    language: str | None = None  # as their app reports it ("en-GB")
    # In a step: the Turn's records_of, so a fact shows the step's unsaved records too.
    history: Callable[[str], Sequence[NewRecord | Record]] | None = None
    translation: Translation | None = None  # the person's language's texts and words

    @property
    def locale(self) -> str:
        """The language the person reads ("es"), for formatting dates and numbers."""
        return self.translation.code if self.translation else SOURCE_LANGUAGE

    def text(self, key: str, **values: Any) -> str:
        """A tool's sentence in the person's language (messages.yaml `texts:`), filled in."""
        if self.translation is None:
            raise LookupError("this FactContext has no translation")
        return fill(self.translation.texts[key], values, escape=False)

    def records(self, kind: str) -> list[NewRecord | Record]:
        """The person's records of a kind, newest first."""
        if self.history is not None:
            return list(self.history(kind))
        return list(self.store.records(self.user_id, kind))


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
    # Keys of the sentences tools build replies from (messages.yaml `texts:`, translated in
    # each language's folder), with the placeholders each fills in.
    texts: dict[str, frozenset[str]] = field(default_factory=dict)

    def needs_texts(self, **texts: Iterable[str]) -> None:
        """Declare texts a tool uses: needs_texts(helpline_open=["until"])."""
        self.texts.update({key: frozenset(fills) for key, fills in texts.items()})

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

def answer_keys(args: Any) -> list[str] | None:
    items = args if isinstance(args, list) else [args]
    return items if all(isinstance(k, str) and KEY.match(k) for k in items) else None


def check_keys(args: Any, ctx: CheckContext) -> list[str]:
    if answer_keys(args) is None:
        return ["expects an answer key or a list of keys, e.g. reason or [urge.before, urge.after]"]
    return []


def check_key_values(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or not args:
        return ["expects {key: value}, e.g. {mood: good}"]
    return [f"'{k}' is not a valid answer key" for k in args if not KEY.match(str(k))]


def check_key_numbers(args: Any, ctx: CheckContext) -> list[str]:
    problems = check_key_values(args, ctx)
    if not problems and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in args.values()):
        problems.append("expects {key: number}, e.g. {urge.before: 7}")
    return problems


def check_none(args: Any, ctx: CheckContext) -> list[str]:
    return [] if args is None else ["takes no arguments"]


def number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_list(args: Any) -> Iterable[str]:
    return args if isinstance(args, list) else [args]


def check_in_save(args: Any, ctx: CheckContext) -> list[str]:
    """For actions reading one answer and saving another: {in: key, save: key}."""
    if not isinstance(args, dict) or set(args) != {"in", "save"} or \
            answer_keys([args["in"], args["save"]]) is None:
        return ["expects {in: answer key, save: answer key}"]
    return []


def whole_number(value: Any) -> int | None:
    found = number(value)
    return None if found is None else round(found)
