"""What free text asks for, offline: the nearest example phrasing, typos forgiven.

Each intent has example phrasings; a message takes the intent of the examples it is
closest to (rapidfuzz's WRatio, which weighs whole-string, partial and token-set
similarity). The `none` intent holds answers and small talk that mean nothing to route.
Close to nothing: no intent. Close to two things, or only fairly close: the engine asks,
with buttons, rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from bot.dialog.yamlfile import Parsed
from bot.errors import Problem
from bot.nlu.normalize import normalize

NONE = "none"


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    label: str  # the button offered when the bot is unsure
    reply: str  # an answer for intents no dialog opens (e.g. thanks)
    line: int


@dataclass(frozen=True, slots=True)
class Guess:
    intent: str | None
    score: float
    alternatives: tuple[str, ...] = ()  # to offer when unsure


@dataclass(frozen=True)
class IntentClassifier:
    intents: dict[str, Intent]
    examples: tuple[str, ...]
    owners: tuple[str, ...]  # the intent of each example
    threshold: float
    unsure: float
    margin: float

    def classify(self, text: str) -> Guess:
        message = normalize(text)
        if not message:
            return Guess(None, 0.0)
        best: dict[str, float] = {}
        for _, score, index in process.extract(message, self.examples, scorer=fuzz.WRatio,
                                               processor=None, limit=12):
            owner = self.owners[index]
            best[owner] = max(best.get(owner, 0.0), score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        top, score = ranked[0]
        runner_up = next((s for name, s in ranked[1:] if name not in (top, NONE)), 0.0)
        if top == NONE and score >= self.threshold:
            return Guess(None, score)
        if top != NONE and score >= self.threshold and score - runner_up >= self.margin:
            return Guess(top, score)
        candidates = tuple(name for name, s in ranked[:3] if name != NONE and s >= self.unsure)
        return Guess(None, score, candidates)


def build_intents(parsed: Parsed) -> tuple[IntentClassifier | None, list[Problem]]:
    data: Any = parsed.data
    problems: list[Problem] = []
    known = ("threshold", "unsure", "margin", "intents")
    if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
        return None, [parsed.problem((), "expected intents: {name: {examples: [...]}}")]
    for key in data:
        if key not in known:
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: "
                                                   f"{', '.join(known)})"))
    numbers = {}
    for key, default in (("threshold", 86.0), ("unsure", 70.0), ("margin", 4.0)):
        value = data.get(key, default)
        if not isinstance(value, int | float) or not 0 <= value <= 100:
            problems.append(parsed.problem((key,), f"{key} must be a number from 0 to 100"))
            value = default
        numbers[key] = float(value)
    intents: dict[str, Intent] = {}
    examples: list[str] = []
    owners: list[str] = []
    for name, body in data["intents"].items():
        where = ("intents", name)
        if not isinstance(body, dict):
            problems.append(parsed.problem(where, f"intent '{name}': expected examples:, "
                                                  "label: and optionally reply:"))
            continue
        for key in body:
            if key not in ("examples", "label", "reply"):
                problems.append(parsed.problem((*where, key), f"intent '{name}': unknown key "
                                               f"'{key}' (known keys: examples, label, reply)"))
        phrases = body.get("examples")
        if not isinstance(phrases, list) or not phrases:
            problems.append(parsed.problem(where, f"intent '{name}' needs examples"))
            continue
        if name != NONE and not body.get("label"):
            problems.append(parsed.problem(where, f"intent '{name}' needs a label (the button "
                                                  "offered when the bot is unsure)"))
        intents[name] = Intent(name, str(body.get("label", "")), str(body.get("reply", "")),
                               parsed.line(where))
        for phrase in phrases:
            examples.append(normalize(str(phrase)))
            owners.append(name)
    if problems:
        return None, problems
    return IntentClassifier(intents, tuple(examples), tuple(owners), numbers["threshold"],
                            numbers["unsure"], numbers["margin"]), []
