"""What free text asks for, offline: a small model trained at start-up on the example
phrasings in dialogs/intents/<language>.yaml.

The model is TF-IDF over character n-grams (which forgive typos: "cravng" shares most of
its pieces with "craving") and word n-grams, with logistic regression on top, from
scikit-learn. The `none` intent holds answers and small talk that mean nothing to route.
A confident guess is acted on; a fairly confident one makes the engine ask, with buttons,
rather than guess; anything less is no intent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import joblib
import sklearn
from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bot.config import default_data_dir
from bot.dialog.yamlfile import Parsed
from bot.errors import Problem
from bot.nlu.normalize import normalize

NONE = "none"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    label: str  # the button offered when the bot is unsure
    reply: str  # an answer for intents no dialog opens (e.g. thanks)
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Guess:
    intent: str | None
    confidence: float
    alternatives: tuple[str, ...] = ()  # to offer when unsure


@dataclass(frozen=True)
class IntentClassifier:
    intents: dict[str, Intent]
    examples: tuple[str, ...]
    owners: tuple[str, ...]  # the intent of each example
    threshold: float  # act on a guess at least this likely
    unsure: float  # ask about guesses at least this likely
    switch: frozenset[str] = frozenset()  # intents that may interrupt a free-text answer
    model: Pipeline = field(init=False, repr=False, compare=False)
    vocabulary: frozenset[str] = field(init=False, repr=False, compare=False)
    by_length: dict[int, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", _train(self.examples, self.owners))
        words = frozenset(w for e in self.examples for w in e.split())
        object.__setattr__(self, "vocabulary", words)
        object.__setattr__(self, "by_length", {n: tuple(sorted(w for w in words if len(w) == n))
                                               for n in {len(w) for w in words}})

    def classify(self, text: str) -> Guess:
        message = self._correct(normalize(text) or ("?" if "?" in text else ""))
        if not message:
            return Guess(None, 0.0)
        probabilities = self.model.predict_proba([message])[0]
        ranked = sorted(zip(self.model.classes_, probabilities, strict=True),
                        key=lambda pair: -pair[1])
        top, confidence = str(ranked[0][0]), float(ranked[0][1])
        if top == NONE:
            return Guess(None, confidence)
        if confidence >= self.threshold:
            return Guess(top, confidence)
        if confidence >= self.unsure:
            others = tuple(str(name) for name, p in ranked[:3]
                           if name != NONE and p >= self.unsure / 2)
            return Guess(None, confidence, others)
        return Guess(None, confidence)


    def _correct(self, message: str) -> str:
        """Misspelt words (one letter off a word of the examples: "mneu", "golas") become
        that word; short words are left alone, too many words are one letter apart."""
        words = message.split()
        for i, word in enumerate(words):
            if len(word) < 4 or word in self.vocabulary:
                continue
            candidates = (v for n in (len(word), len(word) - 1, len(word) + 1)
                          for v in self.by_length.get(n, ()))
            near = next((v for v in candidates
                         if OSA.distance(word, v, score_cutoff=1) <= 1), None)
            if near:
                words[i] = near
        return " ".join(words)


MODEL_VERSION = "tfidf-char2-5-word1-2-logreg-c30-balanced-1"


@cache
def _train(examples: tuple[str, ...], owners: tuple[str, ...]) -> Pipeline:
    """The model for these examples. Training takes a second or two, so the model is kept:
    in memory for this process, and on disk (keyed by a hash of the examples and of how the
    model is built) so the next start-up only loads it."""
    digest = hashlib.sha256(json.dumps([MODEL_VERSION, sklearn.__version__, examples,
                                        owners]).encode()).hexdigest()[:16]
    path = _cache_dir() / f"intents-{digest}.joblib"
    if path.is_file():
        try:
            model: Pipeline = joblib.load(path)
            return model
        except Exception:  # a truncated or foreign file: train again and replace it
            log.warning("the cached intent model %s could not be read; training again", path)
    model = _fit(examples, owners)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        joblib.dump(model, temporary)
        temporary.replace(path)  # atomic: a reader never sees half a file
    except OSError as exc:
        log.info("could not cache the intent model (%s); it will be trained next time", exc)
    return model


def _cache_dir() -> Path:
    return Path(os.environ.get("SMART_COACH_CACHE") or default_data_dir() / "cache")


def _fit(examples: tuple[str, ...], owners: tuple[str, ...]) -> Pipeline:
    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True))
    # Balanced classes: `none` has far more examples than any intent.
    model = make_pipeline(features, LogisticRegression(C=30, max_iter=3000,
                                                       class_weight="balanced"))
    model.fit(list(examples), list(owners))
    return model


def build_intents(parsed: Parsed) -> tuple[IntentClassifier | None, list[Problem]]:
    data: Any = parsed.data
    problems: list[Problem] = []
    known = ("threshold", "unsure", "switch", "intents")
    if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
        return None, [parsed.problem((), "expected intents: {name: {examples: [...]}}")]
    for key in data:
        if key not in known:
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: "
                                                   f"{', '.join(known)})"))
    numbers = {}
    for key, default in (("threshold", 0.4), ("unsure", 0.25)):
        value = data.get(key, default)
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            problems.append(parsed.problem((key,), f"{key} must be a number from 0 to 1"))
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
        if not isinstance(phrases, list) or len(phrases) < 2:
            problems.append(parsed.problem(where, f"intent '{name}' needs examples "
                                                  "(at least two)"))
            continue
        if name != NONE and not body.get("label"):
            problems.append(parsed.problem(where, f"intent '{name}' needs a label (the button "
                                                  "offered when the bot is unsure)"))
        intents[name] = Intent(name, str(body.get("label", "")), str(body.get("reply", "")),
                               parsed.file, parsed.line(where))
        for phrase in phrases:
            examples.append(normalize(str(phrase)) or str(phrase).strip())
            owners.append(name)
    switch = data.get("switch", [])
    if not isinstance(switch, list) or any(s not in intents for s in switch):
        problems.append(parsed.problem(("switch",), "switch: expected a list of the intents "
                                                    "defined below"))
        switch = []
    if NONE not in intents and not problems:
        problems.append(parsed.problem(("intents",), "add a `none` intent: examples of answers "
                                                     "and small talk that mean no intent"))
    if problems:
        return None, problems
    return IntentClassifier(intents, tuple(examples), tuple(owners), numbers["threshold"],
                            numbers["unsure"], frozenset(switch)), []
