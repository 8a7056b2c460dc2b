"""The intent model and the risk classifier ship as weights (dialogs/intents/en.model.npz),
read with numpy alone: they must route every message as the same models trained now with
scikit-learn do, and must match the examples they were trained on."""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import cli
from bot.nlu import crisis, intents
from bot.nlu.intents import IntentClassifier, Scorer, Weights, shipped_only, weights_file
from bot.nlu.load import load_understanding
from bot.nlu.normalize import normalize
from bot.nlu.train import pipeline, weights_of

ROOT = Path(__file__).resolve().parent.parent
DIALOGS = ROOT / "dialogs"
EVAL = Path(__file__).parent / "eval" / "dev"  # tuned on; tests/eval/heldout is never read
EXACT = 1e-9  # the scorer's arithmetic against scikit-learn's, on one trained model
# Shipped weights against a model trained now: bit for bit the same on the machine that
# trained them; another BLAS may differ in the last bits.
TRAINED = 1e-6


def eval_phrases() -> list[str]:
    items = yaml.safe_load((EVAL / "intents.yaml").read_text())["items"]
    found = yaml.safe_load((EVAL / "crisis.yaml").read_text())
    return [i["text"] for i in items] + [i["text"] for i in found["crisis"]] + found["safe"]


def assert_same(scorer: Scorer, model: Any, messages: list[str],
                tolerance: float = EXACT) -> None:
    """The scorer gives the model's own probabilities for each message."""
    assert scorer.classes == tuple(model.classes_)
    for message, expected in zip(messages, model.predict_proba(messages), strict=True):
        got = scorer.probabilities(message)
        assert int(expected.argmax()) == got.index(max(got)), message
        assert max(abs(e - g) for e, g in zip(expected, got, strict=True)) < tolerance, message


class Trained:
    """The shipped models, and the same trained now with scikit-learn."""

    def __init__(self) -> None:
        asked: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        real = crisis.train

        def recording(examples: tuple[str, ...], owners: tuple[str, ...]) -> Weights:
            asked.append((examples, owners))
            return real(examples, owners)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(intents, "_KNOWN", {})  # the shipped file only, nothing trained
            patch.setattr(crisis, "train", recording)  # the risk classifier's examples
            with shipped_only():
                understanding, problems = load_understanding(DIALOGS)
        assert not problems
        assert understanding.classifier and understanding.crisis_detector
        risk = understanding.crisis_detector.risk_model
        assert risk is not None
        self.classifier: IntentClassifier = understanding.classifier
        self.risk: Scorer = risk.scorer
        examples, owners = self.classifier.examples, self.classifier.owners
        self.model = pipeline(examples, owners)
        self.weights = weights_of(self.model, examples, owners)
        (risk_examples, risk_owners), = asked
        self.risk_model = pipeline(risk_examples, risk_owners)


@pytest.fixture(scope="module")
def trained() -> Trained:
    return Trained()


LANGUAGES = sorted(path.stem for path in (DIALOGS / "intents").glob("*.yaml"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_weights_match_the_examples(language: str) -> None:
    # Fails when intent or crisis examples (or the recipe) changed without `smart-coach train`.
    with pytest.MonkeyPatch.context() as patch, shipped_only():
        patch.setattr(intents, "_KNOWN", {})
        _, problems = load_understanding(DIALOGS, language)
    assert not problems, (f"run `smart-coach train --language {language}` and commit "
                          f"dialogs/intents/{language}.model.npz")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_weights_file_is_small(language: str) -> None:
    assert weights_file(DIALOGS / "intents" / f"{language}.yaml").stat().st_size < 2_000_000


def test_the_shipped_models_route_as_the_same_trained_now(trained: Trained) -> None:
    phrases = eval_phrases()
    assert len(phrases) > 800
    now = copy.copy(trained.classifier)
    object.__setattr__(now, "scorer", Scorer.of(trained.weights))
    for text in phrases:
        shipped, fresh = trained.classifier.classify(text), now.classify(text)
        assert (shipped.intent, shipped.alternatives) == (fresh.intent, fresh.alternatives)
        assert abs(shipped.confidence - fresh.confidence) < TRAINED, text
    # What classify hands the model: normalised, misspellings corrected.
    messages = [trained.classifier._correct(normalize(text)) for text in phrases]
    assert_same(trained.classifier.scorer, trained.model, messages, TRAINED)
    assert_same(trained.risk, trained.risk_model, [normalize(t) for t in phrases], TRAINED)


def test_every_eval_phrase_scores_as_scikit_learn_scores_it(trained: Trained) -> None:
    messages = [trained.classifier._correct(normalize(text)) for text in eval_phrases()]
    assert_same(Scorer.of(trained.weights), trained.model, messages)


@pytest.mark.parametrize("message", ["?", "qqqq zzzz", "x", "craving craving craving", ""])
def test_unknown_words_and_repeats_score_as_scikit_learn_scores_them(
        trained: Trained, message: str) -> None:
    assert_same(Scorer.of(trained.weights), trained.model, [message])


def test_start_up_never_imports_scikit_learn() -> None:
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from pathlib import Path\n"
            "from bot.nlu.load import load_understanding\n"
            f"understanding, problems = load_understanding(Path({str(DIALOGS)!r}))\n"
            "assert not problems, problems\n"
            "assert understanding.intent('i want a drink').intent == 'urge'\n"
            "print(sorted({'sklearn', 'scipy', 'joblib'} & {m.split('.')[0] for m, v in "
            "sys.modules.items() if v is not None}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


INTENTS = """\
intents:
  none:
    examples: [ok, yes, no thanks, maybe later, fine, sure]
  urge:
    label: A craving
    reply: Cravings pass.
    examples: [i want a drink, craving a pint, i really want to bet, the urge is strong]
  lapse:
    label: A slip
    reply: A slip is something to learn from.
    examples: [i slipped up, i drank last night, i had a relapse, i used again]
"""


@pytest.fixture
def edited(write_dialogs: Any, tmp_path: Path) -> Path:
    """A dialogs folder whose intents have no weights yet, as after a counsellor's edit."""
    (tmp_path / "dialogs" / "intents").mkdir(parents=True)
    return Path(write_dialogs({"intents/en.yaml": INTENTS}))


def test_edited_examples_are_trained_at_start_up_with_one_warning(
        edited: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intents, "_KNOWN", {})
    with caplog.at_level(logging.WARNING, logger="bot.nlu.intents"):
        for _ in range(2):
            understanding, problems = load_understanding(edited)
            assert not problems
            assert understanding.intent("i want a pint").intent == "urge"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "run `smart-coach train`" in warnings[0]


def test_edited_examples_without_scikit_learn_name_the_file_and_the_command(
        edited: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intents, "_KNOWN", {})
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as when it is not installed
    _, problems = load_understanding(edited)
    assert [str(p) for p in problems] == [
        f"{edited / 'intents' / 'en.yaml'}:1: the examples changed since the model was "
        "trained: run `smart-coach train` (pip install -e '.[train]')"]


def test_validate_reports_stale_weights_until_smart_coach_train_ships_them(
        edited: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(intents, "_KNOWN", {})
    assert cli.main(["validate", str(edited)]) == 1  # not trained: validate never trains
    assert capsys.readouterr().err.splitlines() == [
        f"{edited / 'intents' / 'en.yaml'}:1: the examples changed since the model was "
        "trained: run `smart-coach train` (pip install -e '.[train]')",
        "1 problem in the dialogs."]

    assert cli.main(["train", "--dialogs", str(edited)]) == 0
    shipped = edited / "intents" / "en.model.npz"
    assert capsys.readouterr().out.startswith(f"{shipped}: 1 model trained in ")
    first = shipped.read_bytes()
    monkeypatch.setattr(intents, "_KNOWN", {})
    assert cli.main(["validate", str(edited)]) == 0
    assert cli.main(["train", "--dialogs", str(edited)]) == 0
    assert shipped.read_bytes() == first  # the same examples give the same file
