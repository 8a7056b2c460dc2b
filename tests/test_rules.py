"""Rule skips a pattern only for messages it cannot match: the same answers as re."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.nlu.normalize import normalize
from bot.nlu.rules import Rule, grams, needed

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ["i took too many pills", "he wont wake up", "took 12 of my tablets", "od",
            "i want to kill myself", "went for a walk", "", " ", "xyz took", "tooktaken"]


@pytest.mark.parametrize(("pattern", "needs"), [
    # re factors the common start out of "too much|too many": "too m" then (uch|any)
    (r"\b(took|taken) (too much|too many)\b", ("too m",)),
    (r"\bsuicid", ("suicid",)),
    (r"\bfoo|bar\b", ("bar", "foo")),
    (r"\b(a|bc)?\s*pills\b", ("pills",)),  # an optional group needs nothing
    (r"(x+)yz", ("yz",)),  # the run after a repeat: the longest string
    (r"(?<!\bi )\b(wont|cant) wake\b", (" wake",)),  # a lookbehind needs nothing
    (r"\w+", ()),
    (r"(?i)took", ()),  # the strings would need folding: always searched
])
def test_what_a_match_needs(pattern: str, needs: tuple[str, ...]) -> None:
    groups = needed(re.compile(pattern))
    assert (groups[0] if groups else ()) == needs


def crisis_patterns() -> list[str]:
    data = yaml.safe_load((ROOT / "dialogs" / "crisis" / "en.yaml").read_text())
    found = [*data["ignore"], *data["risk"], *data["careful"], *data["refers_back"],
             *data["means"].values()]
    for patterns in data["kinds"].values():
        found.extend(patterns)
    return found


def test_the_crisis_patterns_answer_as_re_does() -> None:
    eval_dir = ROOT / "tests" / "eval" / "dev"
    crisis = yaml.safe_load((eval_dir / "crisis.yaml").read_text())
    intents = yaml.safe_load((eval_dir / "intents.yaml").read_text())["items"]
    texts = [*MESSAGES, *(i["text"] for i in crisis["crisis"]), *crisis["safe"],
             *(i["text"] for i in intents)]
    messages = [f" {normalize(t)} " for t in texts]
    rules = [Rule.compile(p) for p in crisis_patterns()]
    assert sum(rule.keys is not None for rule in rules) > 0.9 * len(rules)  # most indexed
    matched = 0
    for message in messages:
        pieces = grams(message)
        for rule in rules:
            found = rule.search(message, pieces)
            assert bool(found) == bool(rule.pattern.search(message)), (rule.pattern, message)
            matched += found is not None
            assert rule.sub(" ", message, pieces) == rule.pattern.sub(" ", message)
    assert matched > len(crisis["crisis"])  # the comparison saw matches, not only misses
