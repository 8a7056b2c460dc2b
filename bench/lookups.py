"""The two lookups the bot makes per request, each beside the implementation it replaced.

    .venv/bin/python bench/lookups.py [--rounds 5] [--ordinary 300] [--meetings 50000]

Per free-text message: both safety nets (patterns and the risk classifier), then intent
routing, on the real dialogs' models (the engine skips routing after a crisis; both are
timed here, the worst case). Messages:
every phrasing of tests/eval/dev/intents.yaml and tests/eval/dev/crisis.yaml, the free text of
tests/transcripts/, and ordinary messages made up from everyday phrases (seeded). Each is
timed alone, several rounds, the old way (a copy of classify as it was: a spelling
correction that tried every word of about the same length, then scikit-learn's
predict_proba) and the new (IntentClassifier.classify); both must give the same guess.
The safety nets alone are also timed beside themselves as they were (every pattern searched,
every word's spelling worked out afresh): bot/nlu/rules.py skips the patterns a message
cannot match; both must give the same signal.
Then the nearest meeting over many meetings, from bench/meetings.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz.distance import OSA

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.meetings import measure  # noqa: E402
from bot.dialog.loader import load_catalog  # noqa: E402
from bot.nlu.crisis import CrisisDetector  # noqa: E402
from bot.nlu.intents import NONE, Guess, IntentClassifier, forget_recent  # noqa: E402
from bot.nlu.normalize import normalize  # noqa: E402
from bot.nlu.rules import Rule, RuleSet  # noqa: E402
from bot.nlu.train import pipeline  # noqa: E402  (needs the train extra)
from bot.nlu.understanding import Understanding  # noqa: E402
from bot.tools import default_registry  # noqa: E402

MESSAGE_TARGET_MS = 1.0  # the "intent routing plus crisis check per message < 1 ms"
MEETING_TARGET_MS = 5.0  # as bench/meetings.py
CLAUSES = (
    "went for a walk after work", "my sister rang and we talked for ages", "slept badly again",
    "work was stressful today", "the kids were great", "had a long bath",
    "cooked a proper dinner for once", "money is tight this month", "feeling a bit flat",
    "went to the gym this morning", "watched a film with my partner", "it rained all day",
    "my back is sore", "i got a lot done", "the meeting at work ran late",
    "i was bored in the evening", "saw an old friend in town", "the bus was late again",
    "i kept busy with the garden", "my mum is not well", "i felt proud of myself",
    "i was angry with my boss", "we argued about money", "i read a book in bed",
    "it was my day off", "i had a nap in the afternoon", "the dog needed a long walk",
    "i paid off a bill", "i went to a meeting last night", "not much really",
)
JOINS = (", ", ". ", " and ", " but ", " so ")


def phrasings() -> list[str]:
    eval_dir = ROOT / "tests" / "eval" / "dev"
    intents = yaml.safe_load((eval_dir / "intents.yaml").read_text())["items"]
    crisis = yaml.safe_load((eval_dir / "crisis.yaml").read_text())
    return [i["text"] for i in intents] + [i["text"] for i in crisis["crisis"]] + crisis["safe"]


def transcript_texts() -> list[str]:
    """What people type in the recorded conversations, commands left out."""
    found: dict[str, None] = {}
    for path in sorted((ROOT / "tests" / "transcripts").glob("*.yaml")):
        for step in yaml.safe_load(path.read_text()).get("steps", []):
            typed = step.get("user")
            if isinstance(typed, str) and not typed.startswith("/"):
                found[typed] = None
    return list(found)


def made_up(count: int, rng: random.Random) -> list[str]:
    """Diary-like answers of one to four clauses: longer text, the slow end of the model."""
    messages = []
    for _ in range(count):
        clauses = rng.sample(CLAUSES, rng.randint(1, 4))
        text = clauses[0]
        for clause in clauses[1:]:
            text += rng.choice(JOINS) + clause
        messages.append(text)
    return messages


def by_length(classifier: IntentClassifier) -> dict[int, tuple[str, ...]]:
    words = classifier.vocabulary
    return {n: tuple(sorted(w for w in words if len(w) == n)) for n in {len(w) for w in words}}


def old_correct(classifier: IntentClassifier, lengths: dict[int, tuple[str, ...]],
                message: str) -> str:
    """IntentClassifier._correct as it was: every word of about the same length tried."""
    words = message.split()
    for i, word in enumerate(words):
        if len(word) < 4 or word in classifier.vocabulary:
            continue
        candidates = (v for n in (len(word), len(word) - 1, len(word) + 1)
                      for v in lengths.get(n, ()))
        near = next((v for v in candidates
                     if OSA.distance(word, v, score_cutoff=1) <= 1), None)
        if near:
            words[i] = near
    return " ".join(words)


def old_intent(classifier: IntentClassifier, model: Any, lengths: dict[int, tuple[str, ...]],
               text: str) -> Guess:
    """IntentClassifier.classify as it was: scikit-learn's predict_proba on [message]."""
    message = old_correct(classifier, lengths, normalize(text) or ("?" if "?" in text else ""))
    if not message:
        return Guess(None, 0.0)
    probabilities = model.predict_proba([message])[0]
    ranked = sorted(zip(model.classes_, probabilities, strict=True),
                    key=lambda pair: -pair[1])
    top, confidence = str(ranked[0][0]), float(ranked[0][1])
    if top == NONE:
        return Guess(None, confidence)
    if confidence >= classifier.threshold:
        return Guess(top, confidence)
    if confidence >= classifier.unsure:
        others = tuple(str(name) for name, p in ranked[:3]
                       if name != NONE and p >= classifier.unsure / 2)
        return Guess(None, confidence, others)
    return Guess(None, confidence)


def same(old: Guess, new: Guess) -> bool:
    return (old.intent, old.alternatives) == (new.intent, new.alternatives) and \
        abs(old.confidence - new.confidence) < 1e-9


def time_messages(understanding: Understanding, messages: list[str],
                  rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds per message, old way and new, interleaved so drift hits both alike."""
    classifier = understanding.classifier
    assert classifier is not None
    lengths = by_length(classifier)
    # The scikit-learn pipeline, trained as the bot did at start-up (bot.nlu.train).
    model = pipeline(classifier.examples, classifier.owners)
    paths: tuple[Callable[[str], Guess], ...] = (
        lambda text: old_intent(classifier, model, lengths, text), understanding.intent)
    old: list[float] = []
    new: list[float] = []
    for text in messages:  # warm up, and check the answers agree
        understanding.safety(text)
        assert same(paths[0](text), paths[1](text)), text
    for _ in range(rounds):
        for text in messages:
            for route, timings in zip(paths, (old, new), strict=True):
                forget_recent()  # no n-grams left over from the other route
                started = time.perf_counter_ns()
                understanding.safety(text)
                route(text)
                timings.append((time.perf_counter_ns() - started) / 1e6)
    return old, new


class _Forgetful(dict[str, str]):
    """A corrections memory that keeps nothing: every word corrected afresh, as before."""

    def __setitem__(self, key: str, value: str) -> None:
        pass


def unindexed(detector: CrisisDetector) -> CrisisDetector:
    """The detector as it was: every pattern searched, every word's correction worked out."""
    def plain(rule: Rule) -> Rule:
        copy = Rule(rule.pattern)
        object.__setattr__(copy, "keys", None)
        return copy

    def plain_set(rules: RuleSet) -> RuleSet:
        return RuleSet(tuple(map(plain, rules)))

    return dataclasses.replace(
        detector, ignore=tuple(map(plain, detector.ignore)),
        kinds=tuple((kind, plain_set(rules)) for kind, rules in detector.kinds),
        risk=plain_set(detector.risk), careful=plain_set(detector.careful),
        means=tuple((name, plain(rule)) for name, rule in detector.means),
        refers_back=plain_set(detector.refers_back), corrections=_Forgetful())


def time_safety(detector: CrisisDetector, messages: list[str],
                rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds per message for the safety nets alone, as before and now, interleaved."""
    before = unindexed(detector)
    for text in messages:
        assert before.assess(text) == detector.assess(text), text
    old: list[float] = []
    new: list[float] = []
    for _ in range(rounds):
        for text in messages:
            for net, timings in ((before, old), (detector, new)):
                forget_recent()
                started = time.perf_counter_ns()
                net.assess(text)
                timings.append((time.perf_counter_ns() - started) / 1e6)
    return old, new


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def row(name: str, ms: list[float]) -> str:
    return (f"  {name:<22} {statistics.median(ms):8.3f} {percentile(ms, 0.95):8.3f} "
            f"{percentile(ms, 0.99):8.3f}")


def verdict(new: list[float], old: list[float], target_ms: float) -> str:
    passed = {name: "PASS" if value < target_ms else "FAIL" for name, value in (
        ("median", statistics.median(new)), ("p99", percentile(new, 0.99)))}
    return (f"  speed-up {statistics.median(old) / statistics.median(new):.1f}x (medians); "
            f"target < {target_ms:g} ms: median {passed['median']}, p99 {passed['p99']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ordinary", type=int, default=300, help="made-up ordinary messages")
    parser.add_argument("--meetings", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="one round, fewer queries")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.queries = 1, 100
    understanding = load_catalog(ROOT / "dialogs", default_registry()).understanding
    gc.freeze()  # as the bot does once loaded (bot/channels/telegram/channel.py)
    evals, typed = phrasings(), transcript_texts()
    messages = evals + typed + made_up(args.ordinary, random.Random(7))
    old, new = time_messages(understanding, messages, args.rounds)
    assert understanding.crisis_detector is not None
    nets_old, nets_new = time_safety(understanding.crisis_detector, messages, args.rounds)
    build_ms, fast, slow = measure(args.meetings, args.queries)
    fast_ms, slow_ms = [s * 1000 for s in fast], [s * 1000 for s in slow]

    print(f"{'':24} {'median':>8} {'p95':>8} {'p99':>8}   (ms)")
    print(f"Crisis check + intent routing, {len(messages)} messages ({len(evals)} eval, "
          f"{len(typed)} transcript, {args.ordinary} made up) x {args.rounds} rounds:")
    print(row("scikit-learn (before)", old))
    print(row("Scorer (now)", new))
    print(verdict(new, old, MESSAGE_TARGET_MS))
    print("  of which the safety nets alone (patterns, corrections, risk classifier):")
    print(row("every pattern searched", nets_old))
    print(row("indexed rules (now)", nets_new))
    print(f"  speed-up {statistics.median(nets_old) / statistics.median(nets_new):.1f}x "
          f"(medians), {percentile(nets_old, 0.99) / percentile(nets_new, 0.99):.1f}x (p99)")
    print(f"Nearest 5 meetings within 50 km over {args.meetings} meetings "
          f"(index built in {build_ms:.0f} ms), {len(fast)} queries:")
    print(row(f"Python loop ({len(slow)})", slow_ms))
    print(row("numpy index", fast_ms))
    print(verdict(fast_ms, slow_ms, MEETING_TARGET_MS))


if __name__ == "__main__":
    main()
