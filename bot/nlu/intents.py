"""What free text asks for, offline: a small model trained on the example phrasings in
dialogs/intents/<language>.yaml.

The model is TF-IDF over character n-grams (which forgive typos: "cravng" shares most of
its pieces with "craving") and word n-grams, with logistic regression on top. scikit-learn
trains it (`smart-coach train`, bot/nlu/train.py: the only module that imports it), and its
weights ship beside the examples, dialogs/intents/<language>.model.npz: plain arrays, read
with numpy alone. A message is scored by `Scorer`: scikit-learn's arithmetic on those arrays
(and without the checks and set-up scikit-learn repeats on every call, over 1 ms a message).
The `none` intent holds answers and small talk that mean nothing to route. A confident guess
is acted on; a fairly confident one makes the engine ask, with buttons, rather than guess;
anything less is no intent.

Shipped weights carry a fingerprint of everything training reads: the examples, the recipe
and the file format. When a counsellor edits the examples they no longer match: the model is
then trained at start-up, as it used to be, if scikit-learn is installed (with a warning:
ship fresh weights); if it is not, the intents file is reported, like any other problem.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA

from bot.errors import BotError, Problem
from bot.nlu.normalize import normalize
from bot.yamlfile import Parsed

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
    weights: Weights = field(init=False, repr=False, compare=False)  # shipped or trained now
    scorer: Scorer = field(init=False, repr=False, compare=False)  # what classify asks
    vocabulary: frozenset[str] = field(init=False, repr=False, compare=False)
    # Each word of the examples under itself and under itself less any one letter: a word one
    # edit from it shares one of these keys, so a misspelling is looked up, not searched for.
    near: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", train(self.examples, self.owners))
        object.__setattr__(self, "scorer", Scorer.of(self.weights))
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

# How a model is trained: bot/nlu/train.py builds scikit-learn's pipeline from this. It is
# part of the fingerprint, so changing it makes shipped weights stale. TF-IDF over character
# n-grams within words and over words, logistic regression on top, balanced classes (`none`
# has far more examples than any intent). The solver (lbfgs) draws no random numbers:
# random_state only completes the record.
RECIPE: dict[str, Any] = {
    "features": [{"analyzer": "char_wb", "ngram_range": [2, 5], "sublinear_tf": True},
                 {"analyzer": "word", "ngram_range": [1, 2], "sublinear_tf": True}],
    "classifier": {"C": 30, "max_iter": 3000, "class_weight": "balanced", "random_state": 0},
}
FORMAT = 1  # of the weights file and of the n-gram splitting below; part of the fingerprint
STALE = ("the examples changed since the model was trained: run `smart-coach train` "
         "(pip install -e '.[train]')")


def fingerprint(examples: Sequence[str], owners: Sequence[str]) -> str:
    """sha256 of everything training reads."""
    text = json.dumps([FORMAT, RECIPE, list(examples), list(owners)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class Features:
    """One fitted TfidfVectorizer: how it splits text, its n-grams in column order, their idf."""
    analyzer: str  # "char_wb" or "word"
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    grams: tuple[str, ...]
    idf: Floats


@dataclass(frozen=True, eq=False)
class Weights:
    """A trained model as scikit-learn's fitted attributes hold it, in plain arrays: what
    `smart-coach train` ships and `Scorer` reads."""
    fingerprint: str
    features: tuple[Features, ...]
    coef: Floats  # (classes, columns); two classes keep one row, the second class's
    intercept: Floats
    classes: tuple[str, ...]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


@cache
def analyzer(kind: str, ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """TfidfVectorizer(analyzer=kind, ngram_range=...).build_analyzer() with the other settings
    at their defaults (lowercase, no accent stripping, no stop words): the same n-grams in the
    same order (tests/test_intent_weights.py holds them equal)."""
    low, high = ngram_range
    if kind == "char_wb":
        def char_wb(text: str) -> list[str]:  # scikit-learn's loop, the fastest tried
            grams: list[str] = []
            append = grams.append
            for word in text.lower().split():
                word = " " + word + " "
                size = len(word)
                for n in range(low, high + 1):
                    offset = 0
                    append(word[:n])
                    while offset + n < size:
                        offset += 1
                        append(word[offset:offset + n])
                    if offset == 0:  # a word shorter than n is counted once
                        break
            return grams
        return char_wb
    if kind == "word":
        def words(text: str) -> list[str]:
            tokens: list[str] = _TOKEN.findall(text.lower())
            grams = list(tokens) if low == 1 else []
            for n in range(max(low, 2), min(high, len(tokens)) + 1):
                grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
            return grams
        return words
    raise ValueError(f"no analyzer {kind!r} (char_wb or word)")


@dataclass(frozen=True, slots=True)
class _Terms:
    """One TfidfVectorizer of the union: how it splits text, where its n-grams go."""
    analyze: Callable[[str], list[str]]
    columns: dict[str, int]  # n-gram -> its column in the union
    sublinear: bool
    how: str  # how it splits text: vectorizers that split alike share a message's n-grams


@dataclass(frozen=True, slots=True)
class Scorer:
    """The trained pipeline's predict_proba for one message, from its weights: each n-gram
    looked up in a dict, a dot product over the few columns present, softmax. The pipeline
    must be the one bot/nlu/train.py builds (l2 norm); tests/test_intent_weights.py holds
    them equal."""
    terms: tuple[_Terms, ...]
    # One column more than the union has, with idf 0 and no weight: where n-grams the model
    # never saw go, which adds exact zeros, as leaving them out (sklearn's way) does.
    idf: Floats
    weights: Floats  # (columns, classes): rows are gathered per message, so row-major
    intercept: Floats
    classes: tuple[str, ...]

    @classmethod
    def of(cls, weights: Weights) -> Scorer:
        terms, offset = [], 0
        for features in weights.features:
            size = len(features.grams)
            columns = dict(zip(features.grams, range(offset, offset + size), strict=True))
            terms.append(_Terms(analyzer(features.analyzer, features.ngram_range), columns,
                                features.sublinear_tf,
                                repr((features.analyzer, features.ngram_range))))
            offset += size
        coef, intercept = weights.coef, weights.intercept
        if len(weights.classes) == 2:
            # Two classes keep one row, p = sigmoid(z): the same as softmax over (0, z).
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), \
                np.concatenate([[0.0], intercept])
        coef = np.vstack([coef.T, np.zeros(len(intercept))])
        return cls(tuple(terms), np.concatenate([*(f.idf for f in weights.features), [0.0]]),
                   np.ascontiguousarray(coef, dtype=np.float64),
                   intercept.astype(np.float64), weights.classes)

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


class StaleWeights(BotError):
    """No weights match the examples, and the model may not (or cannot) be trained now."""


# Weights by fingerprint, read from shipped files or trained in this process. A fingerprint
# covers everything training reads, so what is found here is what training would give.
_KNOWN: dict[str, Weights] = {}
# Within shipped_only() (`smart-coach validate`) examples no weights match are reported, not
# trained; within training() (`smart-coach train`) every model is trained afresh and listed.
_TRAIN_MISSING: ContextVar[bool] = ContextVar("train_missing", default=True)
_TRAINED: ContextVar[list[Weights] | None] = ContextVar("trained", default=None)


def train(examples: tuple[str, ...], owners: tuple[str, ...]) -> Weights:
    """The model for these examples: the shipped weights that match them (read_shipped), else
    trained now, once a process, when scikit-learn is installed; else StaleWeights."""
    key = fingerprint(examples, owners)
    trained = _TRAINED.get()
    if trained is None:
        known = _KNOWN.get(key)
        if known is not None:
            return known
        if not _TRAIN_MISSING.get():
            raise StaleWeights(STALE)
    try:
        importlib.import_module("sklearn")
    except ImportError:
        raise StaleWeights(STALE) from None
    from bot.nlu.train import fit  # the only module that imports scikit-learn

    started = time.perf_counter()
    weights = fit(examples, owners)
    _KNOWN[key] = weights
    if trained is not None:
        trained.append(weights)
    else:
        names = ", ".join(weights.classes[:3]) + (" ..." if len(weights.classes) > 3 else "")
        log.warning("no shipped weights match the %d examples of the model of %s: trained it "
                    "now in %.1f s; run `smart-coach train` to ship fresh weights",
                    len(examples), names, time.perf_counter() - started)
    return weights


@contextmanager
def shipped_only() -> Iterator[None]:
    """Within it, examples no shipped weights match are reported (StaleWeights), not trained."""
    token = _TRAIN_MISSING.set(False)
    try:
        yield
    finally:
        _TRAIN_MISSING.reset(token)


@contextmanager
def training() -> Iterator[list[Weights]]:
    """Within it, every model asked for is trained afresh (scikit-learn) and listed."""
    trained: list[Weights] = []
    token = _TRAINED.set(trained)
    try:
        yield trained
    finally:
        _TRAINED.reset(token)


def weights_file(examples_file: str | Path) -> Path:
    """Where the weights trained on an examples file ship: en.yaml -> en.model.npz beside it."""
    path = Path(examples_file)
    return path.with_name(f"{path.stem}.model.npz")


def read_shipped(path: Path) -> None:
    """Make the models of a weights file known. A missing or unreadable file only means that
    none match (reported or trained as such)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].item())
            if meta["format"] != FORMAT:
                return
            for i, model in enumerate(meta["models"]):
                if model["fingerprint"] not in _KNOWN:
                    _KNOWN[model["fingerprint"]] = _read_model(npz, f"m{i}", model)
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("could not read the model weights %s (%s): ignored", path, exc)


def _read_model(npz: Any, name: str, model: dict[str, Any]) -> Weights:
    features = []
    for j, spec in enumerate(model["features"]):
        grams = npz[f"{name}_f{j}_grams"].tobytes().decode()
        features.append(Features(spec["analyzer"], tuple(spec["ngram_range"]),
                                 spec["sublinear_tf"], tuple(grams.split("\n") if grams else ()),
                                 npz[f"{name}_f{j}_idf"]))
    return Weights(model["fingerprint"], tuple(features), npz[f"{name}_coef"],
                   npz[f"{name}_intercept"], tuple(model["classes"]))


def write_weights(path: Path, models: Sequence[Weights]) -> None:
    """A weights file: numpy's .npz (a zip of .npy arrays, no pickle) with n-grams as UTF-8
    text, one a line, and a JSON `meta`. Undated, so the same weights give the same bytes."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    described = []
    for i, weights in enumerate(models):
        described.append({"fingerprint": weights.fingerprint, "classes": list(weights.classes),
                          "features": [{"analyzer": f.analyzer, "ngram_range": list(f.ngram_range),
                                        "sublinear_tf": f.sublinear_tf}
                                       for f in weights.features]})
        arrays[f"m{i}_coef"], arrays[f"m{i}_intercept"] = weights.coef, weights.intercept
        for j, f in enumerate(weights.features):
            if any("\n" in gram for gram in f.grams):
                raise ValueError("an n-gram holds a line break")  # the analyzers split on them
            arrays[f"m{i}_f{j}_grams"] = np.frombuffer("\n".join(f.grams).encode(), np.uint8)
            arrays[f"m{i}_f{j}_idf"] = f.idf
    arrays["meta"] = np.array(json.dumps({"format": FORMAT, "models": described}))
    temporary = path.with_name(f"{path.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            member = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w") as out:
                np.lib.format.write_array(out, np.asarray(array, order="C"), allow_pickle=False)
    temporary.replace(path)  # atomic: a reader never sees half a file


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
    read_shipped(weights_file(parsed.file))
    try:
        return IntentClassifier(intents, tuple(examples), tuple(owners), numbers["threshold"],
                                numbers["unsure"], frozenset(switch)), []
    except StaleWeights as exc:
        return None, [parsed.problem(("intents",), str(exc))]
