"""Choose the risk classifier's threshold without the held-out sets.

    .venv/bin/python bench/risk_threshold.py

Two views, per threshold:
- five-fold cross-validation on the training examples (dialogs/crisis/examples/en.yaml):
  trained on four fifths, how many risk messages of the fifth left out the two nets hear
  (patterns, or the classifier) and how many of its safe messages get the question;
- the development sets (tests/eval/dev/, with the first held-out set, opened after it was
  measured once): the patterns were tuned on their crisis statements, so they show mostly
  the false alarms the classifier adds on ordinary and idiomatic messages.
The held-out sets in tests/eval/heldout/ are never read here: choosing on them would make
them a tuning set.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from bot.nlu.crisis import RISK, Context, CrisisDetector
from bot.nlu.intents import Scorer, train
from bot.nlu.load import load_understanding
from bot.nlu.normalize import normalize

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
FOLDS = 5


def cross_validate(detector: CrisisDetector, counter: tuple[str, ...]) -> None:
    data = yaml.safe_load((ROOT / "dialogs" / "crisis" / "examples" / "en.yaml").read_text())
    risk = [normalize(t) for t in data["risk"]]
    safe = [normalize(t) for t in data["safe"]]
    patterns_only = dataclasses.replace(detector, risk_model=None)
    heard = dict.fromkeys(THRESHOLDS, 0)
    alarms = dict.fromkeys(THRESHOLDS, 0)
    by_patterns = [0, 0]
    for fold in range(FOLDS):
        train_risk = [t for i, t in enumerate(risk) if i % FOLDS != fold]
        train_safe = [t for i, t in enumerate(safe) if i % FOLDS != fold]
        examples = (*train_risk, *train_safe, *counter)
        owners = (RISK,) * len(train_risk) + ("safe",) * (len(examples) - len(train_risk))
        scorer = Scorer.of(train(examples, owners))
        column = scorer.classes.index(RISK)
        for texts, counts, index in ((risk, heard, 0), (safe, alarms, 1)):
            for text in texts[fold::FOLDS]:
                found = patterns_only.assess(text).kind is not None
                by_patterns[index] += found
                p = scorer.probabilities(text)[column]
                for t in THRESHOLDS:
                    counts[t] += found or p >= t
    print(f"cross-validation on the training examples ({len(risk)} risk, {len(safe)} safe):")
    print("threshold  risk heard       safe asked")
    for t in THRESHOLDS:
        print(f"{t:>9.2f}  {heard[t]:>3}/{len(risk)} {heard[t] / len(risk):6.1%}   "
              f"{alarms[t]:>3}/{len(safe)} {alarms[t] / len(safe):5.1%}")
    print(f" patterns  {by_patterns[0]:>3}/{len(risk)} {by_patterns[0] / len(risk):6.1%}   "
          f"{by_patterns[1]:>3}/{len(safe)} {by_patterns[1] / len(safe):5.1%}")

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "eval" / "dev"


def main() -> None:
    understanding, problems = load_understanding(ROOT / "dialogs")
    assert not problems, problems
    detector = understanding.crisis_detector
    assert detector is not None and detector.risk_model is not None
    crisis = yaml.safe_load((DEV / "crisis.yaml").read_text())
    risk = yaml.safe_load((DEV / "risk.yaml").read_text())
    first = DEV / "first-heldout"  # the first held-out set: measured once, then opened
    opened = yaml.safe_load((first / "crisis.yaml").read_text())
    positives = [i["text"] for i in crisis["crisis"]] + risk["heard"] + \
        [i["text"] for i in opened["direct"] + opened["indirect"]]
    negatives = list(crisis["safe"]) + [i["text"] for i in opened["safe"]] + \
        [i["text"] for name in (DEV / "intents.yaml", first / "intents.yaml")
         for i in yaml.safe_load(name.read_text())["items"]]
    patterns_only = dataclasses.replace(detector, risk_model=None)
    model = detector.risk_model
    counter = understanding.classifier.examples if understanding.classifier else ()
    cross_validate(detector, counter)
    print()

    def by_patterns(text: str) -> bool:
        return patterns_only.assess(text, Context()).kind is not None

    def probability(text: str) -> float:
        return model.probability(detector._prepare(text))

    pos = [(by_patterns(t), probability(t)) for t in positives]
    neg = [(by_patterns(t), probability(t)) for t in negatives]
    print(f"development sets: {len(pos)} crisis or possible-risk statements, {len(neg)} "
          f"ordinary and idiomatic messages; current threshold {model.threshold}")
    print("threshold  heard            false alarms")
    for threshold in (*THRESHOLDS, 1.01):
        heard = sum(p or q >= threshold for p, q in pos)
        alarms = sum(p or q >= threshold for p, q in neg)
        label = "patterns" if threshold > 1 else f"{threshold:.2f}"
        print(f"{label:>9}  {heard:>3}/{len(pos)} {heard / len(pos):6.1%}   "
              f"{alarms:>3}/{len(neg)} {alarms / len(neg):5.1%}")


if __name__ == "__main__":
    # The folds' models are not worth keeping in the bot's model cache.
    main()
