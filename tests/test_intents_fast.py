"""The scorer the classifier asks gives scikit-learn's own probabilities: the model is
trained and cached by scikit-learn, and only the per-message arithmetic is done by hand, so
any difference would be a bug in that arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.dialog.loader import load_catalog
from bot.dialog.registry import default_registry
from bot.nlu import intents
from bot.nlu.intents import IntentClassifier, Scorer, train
from bot.nlu.normalize import normalize

EVAL = Path(__file__).parent / "eval" / "dev"  # tuned on; tests/eval/heldout is not
DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"
TOLERANCE = 1e-9


def eval_phrases() -> list[str]:
    intents = yaml.safe_load((EVAL / "intents.yaml").read_text())["items"]
    crisis = yaml.safe_load((EVAL / "crisis.yaml").read_text())
    return [i["text"] for i in intents] + [i["text"] for i in crisis["crisis"]] + crisis["safe"]


def assert_same(scorer: Scorer, model: object, message: str) -> None:
    expected = model.predict_proba([message])[0]  # type: ignore[attr-defined]
    got = scorer.probabilities(message)
    assert scorer.classes == tuple(model.classes_)  # type: ignore[attr-defined]
    assert int(expected.argmax()) == got.index(max(got)), message
    assert max(abs(e - g) for e, g in zip(expected, got, strict=True)) < TOLERANCE, message


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    found = load_catalog(DIALOGS, default_registry()).understanding.classifier
    assert found is not None
    return found


def test_every_eval_phrase_scores_as_scikit_learn_scores_it(classifier: IntentClassifier) -> None:
    phrases = eval_phrases()
    assert len(phrases) > 800
    for text in phrases:
        # What classify hands the model: normalised, misspellings corrected.
        assert_same(classifier.scorer, classifier.model, classifier._correct(normalize(text)))


@pytest.mark.parametrize("message", ["?", "qqqq zzzz", "x", "craving craving craving"])
def test_unknown_words_and_repeats_score_as_scikit_learn_scores_them(
        classifier: IntentClassifier, message: str) -> None:
    assert_same(classifier.scorer, classifier.model, message)


def test_two_intents_score_as_scikit_learn_scores_them() -> None:
    # Two classes are a single row of weights and a sigmoid in scikit-learn.
    examples = ("i want a drink", "craving a pint", "fancy a bet", "hello", "yes", "maybe")
    model = train(examples, ("urge",) * 3 + ("none",) * 3)
    for message in ("i want a bet", "hi there", "", "craving"):
        assert_same(Scorer.of(model), model, message)


def test_a_model_read_from_the_disk_cache_scores_as_the_trained_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_COACH_CACHE", str(tmp_path))
    examples = ("i want a drink", "craving a pint", "i slipped up", "i drank last night",
                "hello", "yes")
    owners = ("urge", "urge", "lapse", "lapse", "none", "none")
    trained = train.__wrapped__(examples, owners)  # past the in-memory cache
    assert len(list(tmp_path.glob("intents-*.joblib"))) == 1
    monkeypatch.setattr(intents, "_fit", None)  # training again would fail
    loaded = train.__wrapped__(examples, owners)
    for message in ("i want a pint", "drank yesterday", "hi"):
        assert Scorer.of(loaded).probabilities(message) == \
            Scorer.of(trained).probabilities(message)
        assert_same(Scorer.of(loaded), trained, message)


def test_a_misspelling_becomes_the_nearest_word_of_the_examples() -> None:
    examples = ("cart card car", "plan planet", "hello there", "yes please")
    classifier = IntentClassifier({}, examples, ("a", "a", "none", "none"), 0.4, 0.25)
    # One letter off several words: the same length first, then one shorter, then one longer,
    # each alphabetically. Short words (under four letters) are left alone.
    assert classifier._correct("carx plane") == "card plan"
    assert classifier._correct("cxrx plannet cax") == "cxrx planet cax"
