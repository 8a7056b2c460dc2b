"""Everyday answers the engine must read the way people type them: "yep", "nope",
"still 8", "eight", "idk", "what do you mean?", "no, I said I didn't".

The words live in dialogs/words/<language>.yaml, not in Python, so a language is a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.errors import Problem
from bot.meetings.helpline import TOPICS
from bot.nlu.normalize import normalize
from bot.yamlfile import Parsed

SHORT = 5  # words: a longer message is not "a number" or "a yes", it says something more
_NUMBERS = re.compile(r"(?<![\w.,])-?\d+(?:[.,]\d+)?(?![\w])")
LISTS = ("yes", "no", "unsure", "unclear", "filler")
PATTERNS = ("correction", "question")
# Words the tools listen for in what people type, a section per tool, each {name: [words or
# phrases]}: when (meetings "tonight", "on Saturday"), reminder ("off", "pm"), abc (the
# absolute words of a belief), meetings (how a request names a place and a kind of meeting).
# The tool reads them as it needs (bot/phrases.py).
TOOL_SECTIONS = ("when", "reminder", "abc", "meetings")


@dataclass(frozen=True)
class Words:
    yes: frozenset[str] = frozenset()
    no: frozenset[str] = frozenset()
    unsure: frozenset[str] = frozenset()  # "idk", "not sure": no answer yet
    unclear: frozenset[str] = frozenset()  # "what do you mean?": the question was unclear
    filler: frozenset[str] = frozenset()  # words that add nothing: "lol", "tbh", "even"
    numbers: tuple[tuple[str, int], ...] = ()  # "eight" -> 8
    correction: tuple[re.Pattern[str], ...] = ()  # "no i said i didnt"
    question: tuple[re.Pattern[str], ...] = ()  # "what do you mean"
    # What a message is about, for helplines: ("gambling", {"gambling", "betting", ...}).
    topics: tuple[tuple[str, frozenset[str]], ...] = ()
    tools: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, hash=False)

    def phrases(self, section: str, name: str) -> tuple[str, ...]:
        """A tool's words: phrases("reminder", "off") -> ("off", "stop", ...)."""
        return self.tools.get(section, {}).get(name, ())

    def topics_in(self, text: str) -> set[str]:
        """The topics a message's words name: "my son keeps betting" is gambling and family."""
        said = f" {normalize(text)} "
        return {topic for topic, phrases in self.topics if any(f" {p} " in said for p in phrases)}

    def yes_or_no(self, text: str) -> str | None:
        """"yes" or "no" for a short reply that plainly says one of them ("yep!", "so far
        yeah", "nope not really"), None otherwise or when it says both."""
        words = normalize(text).split()
        if not words or len(words) > SHORT:
            return None
        said = " ".join(words)
        found = {answer for answer, phrases in (("yes", self.yes), ("no", self.no))
                 if any(f" {p} " in f" {said} " for p in phrases)}
        return found.pop() if len(found) == 1 else None

    def number(self, text: str) -> float | None:
        """The one number in a short reply: "8", "still 8", "about a 7", "eight", "8/10".
        None when there is none, or more than one ("from 8 to 4")."""
        text = re.sub(r"(\d)\s*/\s*10\b|(\d)\s+out of\s+10\b", r"\1\2", text.lower())
        digits = [float(m.replace(",", ".")) for m in _NUMBERS.findall(text)]
        words = normalize(_NUMBERS.sub(" ", text)).split()
        if len(words) + len(digits) > SHORT:
            return None
        named = dict(self.numbers)
        found = digits + [float(named[word]) for word in words if word in named]
        if len(found) != 1:
            return None
        return found[0]

    def unsure_of(self, text: str) -> bool:
        said = normalize(text)
        return bool(said) and len(said.split()) <= 2 * SHORT and any(
            f" {p} " in f" {said} " for p in self.unsure)

    def puzzled(self, text: str) -> bool:
        """The whole reply says the question was not clear ("what do you mean?", "huh")."""
        return normalize(text) in self.unclear

    def only_unsure(self, text: str) -> bool:
        """Nothing but "I don't know" ("idk what do i even say lol"): not an answer, even
        where any text is ("dunno, delete the app maybe" is one)."""
        said = f" {normalize(text)} "
        for phrase in sorted(self.unsure, key=len, reverse=True):
            if said.startswith(f" {phrase} "):
                rest = said[len(phrase) + 2:].split()
                return all(word in self.filler for word in rest)
        return False

    def corrects(self, text: str) -> bool:
        """A correction of what the bot understood ("no, I said I didn't")."""
        said = f" {normalize(text)} "
        return any(p.search(said) for p in self.correction)

    def asks(self, text: str) -> bool:
        """A question back to the bot ("what do you mean?", "why?")."""
        said = f" {normalize(text)} "
        return text.strip().endswith("?") or any(p.search(said) for p in self.question)


def build_words(parsed: Parsed) -> tuple[Words | None, list[Problem]]:
    """From dialogs/words/<language>.yaml: yes, no, unsure, unclear, filler: [phrases];
    numbers: {word: n}; correction, question: [patterns]; topics: {topic: [phrases]}."""
    data: Any = parsed.data
    if not isinstance(data, dict):
        return None, [parsed.problem((), "expected yes, no, unsure, numbers, correction and "
                                         "question")]
    problems: list[Problem] = []
    lists: dict[str, frozenset[str]] = {}
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    known = (*LISTS, "numbers", *PATTERNS, "topics", *TOOL_SECTIONS)
    for key in data:
        if key not in known:
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: "
                                                   f"{', '.join(known)})"))
    for key in LISTS:
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.append(parsed.problem((key,), "expected a list of words or phrases"))
            continue
        lists[key] = frozenset(normalize(i) for i in items if normalize(i))
    for key in PATTERNS:
        compiled = []
        for i, item in enumerate(data.get(key, []) or []):
            try:
                compiled.append(re.compile(str(item)))
            except re.error as exc:
                problems.append(parsed.problem((key, i), f"pattern '{item}' is not a valid "
                                                         f"regular expression: {exc}"))
        patterns[key] = tuple(compiled)
    numbers = data.get("numbers", {})
    if not isinstance(numbers, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()):
        problems.append(parsed.problem(("numbers",), "expected {word: number}, e.g. eight: 8"))
        numbers = {}
    topics = data.get("topics", {}) or {}
    if not isinstance(topics, dict):
        problems.append(parsed.problem(("topics",), "expected {topic: [words or phrases]}"))
        topics = {}
    for topic, items in topics.items():
        if topic not in TOPICS:
            problems.append(parsed.problem(("topics", topic), f"unknown topic '{topic}' "
                                           f"(known: {', '.join(TOPICS)})"))
        elif not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problems.append(parsed.problem(("topics", topic), "expected a list of words or "
                                                              "phrases"))
    tools: dict[str, dict[str, tuple[str, ...]]] = {}
    for section in TOOL_SECTIONS:
        given = data.get(section, {}) or {}
        if not isinstance(given, dict) or not all(
                isinstance(items, list) and items and all(isinstance(i, str) and i.strip()
                                                          for i in items)
                for items in given.values()):
            problems.append(parsed.problem((section,), "expected {name: [words or phrases]}"))
            continue
        tools[section] = {str(name): tuple(items) for name, items in given.items()}
    if problems:
        return None, problems
    return Words(lists.get("yes", frozenset()), lists.get("no", frozenset()),
                 lists.get("unsure", frozenset()), lists.get("unclear", frozenset()),
                 lists.get("filler", frozenset()),
                 tuple((normalize(str(k)), int(v)) for k, v in numbers.items()),
                 patterns["correction"], patterns["question"],
                 tuple((str(topic), frozenset(normalize(i) for i in items if normalize(i)))
                       for topic, items in topics.items()), tools), []
