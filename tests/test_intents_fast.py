"""The scorer the classifier asks gives scikit-learn's own probabilities: scikit-learn trains
the model (bot/nlu/train.py), and splitting text into n-grams and the per-message arithmetic
are done by hand on its weights, so any difference would be a bug there. The shipped model
itself is checked in tests/test_intent_weights.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu import intents
from bot.nlu.intents import (
    IntentClassifier,
    Scorer,
    analyzer,
    read_shipped,
    train,
    write_weights,
)
from bot.nlu.train import pipeline, weights_of

EVAL = Path(__file__).parent / "eval" / "dev"  # tuned on; tests/eval/heldout is not
TOLERANCE = 1e-9
EXAMPLES = ("i want a drink", "craving a pint", "i slipped up", "i drank last night",
            "hello", "yes")
OWNERS = ("urge", "urge", "lapse", "lapse", "none", "none")


def assert_same(scorer: Scorer, model: object, message: str) -> None:
    expected = model.predict_proba([message])[0]  # type: ignore[attr-defined]
    got = scorer.probabilities(message)
    assert scorer.classes == tuple(model.classes_)  # type: ignore[attr-defined]
    assert int(expected.argmax()) == got.index(max(got)), message
    assert max(abs(e - g) for e, g in zip(expected, got, strict=True)) < TOLERANCE, message


@pytest.mark.parametrize(("kind", "ngram_range"), [("char_wb", (2, 5)), ("word", (1, 2)),
                                                   ("char_wb", (1, 3)), ("word", (2, 3))])
def test_text_splits_into_the_n_grams_scikit_learn_makes(
        kind: str, ngram_range: tuple[int, int]) -> None:
    items = yaml.safe_load((EVAL / "intents.yaml").read_text())["items"]
    texts = [i["text"] for i in items] + ["", "x", "  Two\tSPACES  here\n", "café Ünïcode 42",
                                          "a b c", "don't-stop!! ok?", "ß İ ǅ"]
    theirs = TfidfVectorizer(analyzer=kind, ngram_range=ngram_range).build_analyzer()
    ours = analyzer(kind, ngram_range)
    for text in texts:
        assert ours(text) == theirs(text), text


def test_two_intents_score_as_scikit_learn_scores_them() -> None:
    # Two classes are a single row of weights and a sigmoid in scikit-learn.
    examples = ("i want a drink", "craving a pint", "fancy a bet", "hello", "yes", "maybe")
    owners = ("urge",) * 3 + ("none",) * 3
    model = pipeline(examples, owners)
    for message in ("i want a bet", "hi there", "", "craving"):
        assert_same(Scorer.of(weights_of(model, examples, owners)), model, message)


def test_weights_read_from_a_file_score_as_the_trained_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = pipeline(EXAMPLES, OWNERS)
    written = weights_of(model, EXAMPLES, OWNERS)
    write_weights(tmp_path / "en.model.npz", [written])
    monkeypatch.setattr(intents, "_KNOWN", {})
    read_shipped(tmp_path / "en.model.npz")
    monkeypatch.setitem(sys.modules, "sklearn", None)  # no training now
    loaded = train(EXAMPLES, OWNERS)
    assert loaded is not written and loaded.fingerprint == written.fingerprint
    for message in ("i want a pint", "drank yesterday", "hi"):
        assert Scorer.of(loaded).probabilities(message) == \
            Scorer.of(written).probabilities(message)
        assert_same(Scorer.of(loaded), model, message)


def test_a_misspelling_becomes_the_nearest_word_of_the_examples() -> None:
    examples = ("cart card car", "plan planet", "hello there", "yes please")
    classifier = IntentClassifier({}, examples, ("a", "a", "none", "none"), 0.4, 0.25)
    # One letter off several words: the same length first, then one shorter, then longer,
    # each alphabetically. Short words (under four letters) are left alone.
    assert classifier._correct("carx plane") == "card plan"
    assert classifier._correct("cxrx plannet cax") == "cxrx planet cax"
