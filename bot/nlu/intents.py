"""What free text asks for, offline: a small model trained at start-up on the example
phrasings in dialogs/intents/<language>.yaml.

The model is TF-IDF over character n-grams (which forgive typos: "cravng" shares most of
its pieces with "craving") and word n-grams, with logistic regression on top, from
scikit-learn. scikit-learn trains it, but a message is scored by `Scorer`: the same
arithmetic on the fitted arrays, without the checks and set-up scikit-learn repeats on every
call (over 1 ms a message, ten times the arithmetic). The `none` intent holds answers and
small talk that mean nothing to route. A confident guess is acted on; a fairly confident
one makes the engine ask, with buttons, rather than guess; anything less is no intent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
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
    model: Pipeline = field(init=False, repr=False, compare=False)  # as trained and cached
    scorer: Scorer = field(init=False, repr=False, compare=False)  # what classify asks
    vocabulary: frozenset[str] = field(init=False, repr=False, compare=False)
    # Each word of the examples under itself and under itself less any one letter: a word one
    # edit from it shares one of these keys, so a misspelling is looked up, not searched for.
    near: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", train(self.examples, self.owners))
        object.__setattr__(self, "scorer", Scorer.of(self.model))
        words = frozenset(w for e in self.examples for w in e.split())
        object.__setattr__(self, "vocabulary", words)
        near: dict[str, list[str]] = {}
        for word in words:
            for key in _less_one_letter(word):
                near.setdefault(key, []).append(word)
        object.__setattr__(self, "near", {key: tuple(found) for key, found in near.items()})

    def classify(self, text: str) -> Guess:
        message = self._correct(normalize(text) or ("?" if "?" in text else ""))
        if not message:
            return Guess(None, 0.0)
        probabilities = self.scorer.probabilities(message)
        ranked = sorted(zip(self.scorer.classes, probabilities, strict=True),
                        key=lambda pair: -pair[1])
        top, confidence = ranked[0]
        if top == NONE:
            return Guess(None, confidence)
        if confidence >= self.threshold:
            return Guess(top, confidence)
        if confidence >= self.unsure:
            others = tuple(name for name, p in ranked[:3]
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
            near = [known for key in _less_one_letter(word) for known in self.near.get(key, ())
                    if OSA.distance(word, known, score_cutoff=1) <= 1]
            if near:
                # Of several, a fixed choice (not the set's order): the same length first,
                # then one letter shorter, then longer, each alphabetically.
                words[i] = min(near, key=lambda known: (abs(len(known) - len(word)),
                                                        len(known) > len(word), known))
        return " ".join(words)


def _less_one_letter(word: str) -> set[str]:
    """The word and each way of dropping one letter from it."""
    return {word, *(word[:i] + word[i + 1:] for i in range(len(word)))}


Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Terms:
    """One fitted TfidfVectorizer of the union: how it splits text, where its n-grams go."""
    analyze: Callable[[str], list[str]]
    columns: dict[str, int]  # n-gram -> its column in the union
    sublinear: bool
    how: str  # how it splits text: vectorizers that split alike share a message's n-grams


@dataclass(frozen=True, slots=True)
class Scorer:
    """The fitted pipeline's predict_proba for one message, from its arrays: each n-gram
    looked up in a dict, a dot product over the few columns present, softmax. The pipeline
    must be the one _fit builds (l2 norm); tests/test_intents_fast.py holds them equal."""
    terms: tuple[_Terms, ...]
    # One column more than the union has, with idf 0 and no weight: where n-grams the model
    # never saw go, which adds exact zeros, as leaving them out (sklearn's way) does.
    idf: Floats
    weights: Floats  # (columns, classes): rows are gathered per message, so row-major
    intercept: Floats
    classes: tuple[str, ...]

    @classmethod
    def of(cls, model: Pipeline) -> Scorer:
        union, regression = model[0], model[-1]
        terms, idf, offset = [], [], 0
        for _, vectorizer in union.transformer_list:
            columns = {gram: offset + c for gram, c in vectorizer.vocabulary_.items()}
            how = repr((vectorizer.analyzer, vectorizer.ngram_range, vectorizer.lowercase,
                        vectorizer.strip_accents, vectorizer.token_pattern))
            terms.append(_Terms(vectorizer.build_analyzer(), columns, vectorizer.sublinear_tf,
                                how))
            idf.append(vectorizer.idf_)
            offset += len(columns)
        weights, intercept = regression.coef_, regression.intercept_
        if len(regression.classes_) == 2:
            # Two classes keep one row, p = sigmoid(z): the same as softmax over (0, z).
            weights, intercept = np.vstack([np.zeros_like(weights), weights]), \
                np.concatenate([[0.0], intercept])
        weights = np.vstack([weights.T, np.zeros(len(intercept))])
        return cls(tuple(terms), np.concatenate([*idf, [0.0]]),
                   np.ascontiguousarray(weights, dtype=np.float64),
                   intercept.astype(np.float64), tuple(str(c) for c in regression.classes_))

    def probabilities(self, message: str) -> list[float]:
        """One per class, in the order of `classes`."""
        scores = self.intercept.copy()
        for terms in self.terms:
            columns, values = self._weigh(terms, message)
            scores += values @ self.weights[columns]
        scores = np.exp(scores - scores.max())
        return (scores / scores.sum()).tolist()  # type: ignore[no-any-return]

    def _weigh(self, terms: _Terms, message: str) -> tuple[npt.NDArray[np.intp], Floats]:
        """The columns and TF-IDF values of message, as TfidfVectorizer.transform makes them."""
        counts = _ngrams(terms, message)
        unknown = len(self.idf) - 1
        columns = np.fromiter([terms.columns.get(gram, unknown) for gram in counts], np.intp,
                              len(counts))
        values = np.fromiter(counts.values(), np.float64, len(counts))
        if terms.sublinear:
            values = np.log(values) + 1.0
        values *= self.idf[columns]
        norm = float(np.sqrt(values @ values))
        if norm:  # sklearn leaves an all-zero row as it is
            values /= norm
        return columns, values


# The n-grams of the last few messages: the risk classifier and the intent model split text
# alike, and both read most messages (n-grams are half the cost of a score).
_RECENT: dict[tuple[str, str], Counter[str]] = {}
RECENT = 16


def _ngrams(terms: _Terms, message: str) -> Counter[str]:
    key = (terms.how, message)
    counts = _RECENT.get(key)
    if counts is None:
        counts = Counter(terms.analyze(message))
        if len(_RECENT) >= RECENT:
            _RECENT.clear()
        _RECENT[key] = counts
    return counts


def forget_recent() -> None:
    """Drop the remembered n-grams (benchmarks time each message from cold)."""
    _RECENT.clear()


MODEL_VERSION = "tfidf-char2-5-word1-2-logreg-c30-balanced-1"


@cache
def train(examples: tuple[str, ...], owners: tuple[str, ...]) -> Pipeline:
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
