"""The crisis safety net: does a message signal suicide, self-harm, overdose, a medical
emergency, harm to others or abuse? Offline patterns over the normalised message.

Missing a crisis is far worse than a false alarm, so the patterns lean wide and are
checked before anything else, in every state of every dialog. Ordinary idioms ("this
craving is killing me", "dying for a coffee") are removed first by the `ignore` list.
Longer key words are corrected when misspelt ("sucide", "overdoesd"), never the short
ones: "kill" is one letter from "will" and "fill".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from bot.dialog.yamlfile import Parsed
from bot.errors import Problem
from bot.nlu.normalize import normalize

MIN_CORRECTED = 5  # letters a key word needs before a misspelling of it is corrected


@dataclass(frozen=True)
class CrisisDetector:
    ignore: tuple[re.Pattern[str], ...]
    kinds: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    vocabulary: frozenset[str]
    spellings: dict[str, str]
    # A fixed order to try key words in: a typo near two of them ("overdosd") is then
    # corrected the same way in every run, not in the set's hash order.
    ordered: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ordered", tuple(sorted(self.vocabulary)))

    def detect(self, text: str) -> str | None:
        """The kind of crisis the message signals (suicide, overdose ...), or None."""
        message = f" {self._correct(normalize(text))} "
        for idiom in self.ignore:
            message = idiom.sub(" ", message)
        for kind, patterns in self.kinds:
            if any(p.search(message) for p in patterns):
                return kind
        return None

    def _correct(self, message: str) -> str:
        words = [self.spellings.get(word, word) for word in message.split()]
        for i, word in enumerate(words):
            if len(word) < MIN_CORRECTED - 1 or word in self.vocabulary:
                continue
            for known in self.ordered:
                allowed = 1 if len(known) < 8 else 2
                if abs(len(known) - len(word)) <= allowed and \
                        OSA.distance(word, known, score_cutoff=allowed) <= allowed:
                    words[i] = known
                    break
        return " ".join(words)


def build_crisis(parsed: Parsed) -> tuple[CrisisDetector | None, list[Problem]]:
    """From a parsed crisis file: kinds: {kind: [regex]}, and optional ignore: [regex],
    spellings: {written: meant}, vocabulary: [word]."""
    data: Any = parsed.data
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
        return None, [parsed.problem((), "expected kinds: {kind: [patterns]}, plus optional "
                                         "ignore: [idioms] and vocabulary: [words]")]
    for key in data:
        if key not in ("ignore", "spellings", "vocabulary", "kinds"):
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: ignore, "
                                                   "spellings, vocabulary, kinds)"))

    def compile_all(items: Any, path: tuple[Any, ...]) -> tuple[re.Pattern[str], ...]:
        if not isinstance(items, list) or not items:
            problems.append(parsed.problem(path, "expected a list of patterns"))
            return ()
        compiled = []
        for i, item in enumerate(items):
            try:
                compiled.append(re.compile(str(item)))
            except re.error as exc:
                problems.append(parsed.problem((*path, i), f"pattern '{item}' is not a valid "
                                                           f"regular expression: {exc}"))
        return tuple(compiled)

    ignore = compile_all(data.get("ignore", ["$^"]), ("ignore",))
    kinds = tuple((str(kind), compile_all(items, ("kinds", kind)))
                  for kind, items in data["kinds"].items())
    vocabulary = data.get("vocabulary", [])
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        problems.append(parsed.problem(("vocabulary",), "expected a list of words"))
        vocabulary = []
    short = [w for w in vocabulary if len(w) < MIN_CORRECTED]
    if short:
        problems.append(parsed.problem(("vocabulary",), f"words shorter than {MIN_CORRECTED} "
                                       f"letters are not corrected safely: {', '.join(short)}"))
    spellings = data.get("spellings", {})
    if not isinstance(spellings, dict):
        problems.append(parsed.problem(("spellings",), "expected {as written: as meant}"))
        spellings = {}
    if problems:
        return None, problems
    return CrisisDetector(ignore, kinds, frozenset(normalize(w) for w in vocabulary),
                          {normalize(str(k)): normalize(str(v)) for k, v in spellings.items()}), []
