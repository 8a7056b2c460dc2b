"""The safety nets and free-text understanding measured on the held-out sets in
tests/eval/heldout/ (written blind, never used to tune), beside the development sets they
were tuned on (tests/eval/dev/). The figures are printed at the end of the run; the
thresholds asserted are the project's bar (README, "Understanding free text")."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dialog.loader import load_catalog
from bot.dialog.registry import default_registry
from bot.dialog.spec import CRISIS_DIALOG, Catalog
from bot.nlu.crisis import RISK
from bot.testing import ChatClient

EVAL = Path(__file__).parent / "eval"
FEELINGS = ("ashamed", "lonely", "low", "better")
# Held-out results are measured, not tuned for. BAR is what the project aims at (issue 12's
# "done when"); FLOOR is what was measured on 2026-11-30 with the risk classifier (its
# threshold chosen by bench/risk_threshold.py, without these sets), kept as a guard against
# getting worse (false alarms: a ceiling). Until a figure reaches its bar, README says so.
BAR = {"direct": 1.0, "indirect": 0.95, "alarms": 0.02, "context": 0.9, "unanswered": 0.0,
       "intents": 0.95}
FLOOR = {"direct": 0.93, "indirect": 0.86, "alarms": 0.04, "context": 0.68,
         "unanswered": 0.19, "intents": 0.94}


def load(*parts: str) -> Any:
    return yaml.safe_load((EVAL.joinpath(*parts)).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Path(__file__).resolve().parent.parent / "dialogs", default_registry())


def heard(catalog: Catalog, text: str) -> str | None:
    return catalog.understanding.safety(text).kind


def play(chat: ChatClient, messages: list[str]) -> str:
    """crisis, ask or ordinary: what the last message led to."""
    for text in messages:
        chat.send(text)
    dialog, state = chat.position
    if dialog != CRISIS_DIALOG:
        return "ordinary"
    return "ask" if state in ("ask", "ask_again") else "crisis"


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.1%})"


# -- development sets: tuned on, so they only guard against regressions --------------------

def test_dev_possible_signs_are_all_heard(catalog: Catalog, figures: list[str]) -> None:
    dev = load("dev", "risk.yaml")
    missed = [t for t in dev["heard"] if heard(catalog, t) is None]
    first_aid = [t for t in dev["not_overdose"] if heard(catalog, t) == "overdose"]
    total = len(dev["heard"])
    figures.append(f"dev possible signs: heard {rate(total - len(missed), total)}")
    assert missed == [] and first_aid == []


def test_dev_context_cases(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    for user, case in enumerate(load("dev", "risk.yaml")["context"], start=100):
        got = play(chat.as_user(user), case["messages"])
        want = {"crisis": {"crisis"}, "heard": {"crisis", "ask"}, "ordinary": {"ordinary"}}
        assert got in want[case["expect"]], (case, got)


# -- held-out sets: measured, never tuned on ------------------------------------------------

def test_heldout_direct_crisis_recall_is_total(catalog: Catalog, figures: list[str]) -> None:
    items = load("heldout", "crisis.yaml")["direct"]
    kinds = [heard(catalog, i["text"]) for i in items]
    certain = sum(k not in (None, RISK) for k in kinds)
    asked = sum(k is not None for k in kinds)
    figures.append(f"held-out direct crisis: crisis reply {rate(certain, len(items))}, "
                   f"heard (crisis reply or the safety question) {rate(asked, len(items))}")
    # The texts are not printed: looking at the misses would be tuning on them.
    assert asked / len(items) >= FLOOR["direct"], f"below {FLOOR['direct']:.0%} (bar: 100%)"


def test_heldout_indirect_signs_are_heard(catalog: Catalog, figures: list[str]) -> None:
    items = load("heldout", "crisis.yaml")["indirect"]
    missed = [i for i in items if heard(catalog, i["text"]) is None]
    by_theme = Counter(i["theme"] for i in missed)
    figures.append(f"held-out indirect signs: heard {rate(len(items) - len(missed), len(items))}; "
                   f"missed by theme {dict(by_theme)}")
    assert (len(items) - len(missed)) / len(items) >= FLOOR["indirect"]


def test_heldout_false_alarms_are_rare(catalog: Catalog, figures: list[str]) -> None:
    safe = load("heldout", "crisis.yaml")["safe"]
    ordinary = [{"group": "intent", "text": i["text"]}
                for i in load("heldout", "intents.yaml")["items"]]
    items = safe + ordinary
    alarms = [i for i in items if heard(catalog, i["text"]) is not None]
    idioms = [i for i in alarms if i["group"] == "idiom"]
    figures.append(f"held-out false alarms: {rate(len(alarms), len(items))} of ordinary and "
                   f"idiomatic messages (idioms {len(idioms)})")
    assert len(alarms) / len(items) <= FLOOR["alarms"]


def test_heldout_context(dialogs_dir: Path, figures: list[str]) -> None:
    cases = load("heldout", "context.yaml")["conversations"]
    want = {"crisis": {"crisis"}, "ask": {"crisis", "ask"}, "ordinary": {"ordinary"}}
    chat = ChatClient(dialogs_dir)
    right = [play(chat.as_user(user), c["messages"]) in want[c["expect"]]
             for user, c in enumerate(cases, start=100)]
    kinds = Counter(c["expect"] for c, ok in zip(cases, right, strict=True) if not ok)
    figures.append(f"held-out conversations (context): {rate(sum(right), len(cases))}; "
                   f"wrong by expected outcome {dict(kinds)}")
    assert sum(right) / len(cases) >= FLOOR["context"]


def test_heldout_feelings_get_an_answer(dialogs_dir: Path, catalog: Catalog,
                                       figures: list[str]) -> None:
    items = load("heldout", "feelings.yaml")["items"]
    fallback = catalog.messages["fallback"]
    routed = sum(catalog.understanding.intent(i["text"]).intent == i["feeling"] for i in items)
    unanswered = []
    chat = ChatClient(dialogs_dir)
    for user, item in enumerate(items, start=100):
        person = chat.as_user(user)
        person.send(item["text"])
        if any(r.text.startswith(fallback[:20]) for r in person.replies) or \
                person.position[0] == "urge":
            unanswered.append(item["text"])
    figures.append(f"held-out feelings: the right feeling {rate(routed, len(items))}; "
                   f"'not understood' or the urge tools {len(unanswered)}")
    assert len(unanswered) / len(items) <= FLOOR["unanswered"]


def test_heldout_intent_routing(catalog: Catalog, figures: list[str]) -> None:
    items = load("heldout", "intents.yaml")["items"]
    right = sum((catalog.understanding.intent(i["text"]).intent or "none") == i["intent"]
                for i in items)
    figures.append(f"held-out intents: {rate(right, len(items))} (bar {BAR['intents']:.0%})")
    assert right / len(items) >= FLOOR["intents"]
