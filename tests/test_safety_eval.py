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
from bot.dialog.spec import CRISIS_DIALOG, Catalog
from bot.nlu.crisis import RISK
from bot.testing import ChatClient
from bot.tools import default_registry

pytestmark = pytest.mark.slow  # the evaluation sets, every phrase through the engine: ~15 s

EVAL = Path(__file__).parent / "eval"
FEELINGS = ("ashamed", "lonely", "low", "better")
# Held-out results are measured, not tuned for. BAR is what the project aims at (issue 12's
# "done when"); FLOORS are what was measured (false alarms: a ceiling), kept as a guard
# against getting worse: the fresh held-out set once, on 2026-11-30, after all tuning on the
# development sets; the first held-out set after it was opened and tuned on. Until a figure
# reaches its bar, README says so. The HALT intent (issue 17) cost one conversation (40 ->
# 39 of 56): its examples are also the risk classifier's counter-examples.
BAR = {"direct": 1.0, "indirect": 0.95, "alarms": 0.02, "context": 0.9, "unanswered": 0.0,
       "intents": 0.95}
FLOORS = {
    "heldout": {"direct": 0.92, "indirect": 0.87, "alarms": 0.054, "context": 0.69,
                "unanswered": 0.10, "intents": 0.92},
    "dev/first-heldout": {"direct": 1.0, "indirect": 0.95, "alarms": 0.02, "context": 0.9,
                          "unanswered": 0.05, "intents": 0.97},
}


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


# -- the blind sets: tests/eval/heldout measures (never tuned on); dev/first-heldout was the
# first such set, measured once, then opened for tuning: now it only guards ---------------

SETS = ("heldout", "dev/first-heldout")


def label(where: str) -> str:
    return "held-out" if where == "heldout" else "first held-out (now dev)"


def problem(where: str, name: str, misses: list[str]) -> str:
    """The assertion message: the texts only for a development set. Looking at held-out
    misses would be tuning on them."""
    bar = f"below {FLOORS[where][name]:.0%} (bar: {BAR[name]:.0%})"
    return bar if where == "heldout" else f"{bar}: {misses}"


@pytest.mark.parametrize("where", SETS)
def test_direct_crisis_recall_is_total(catalog: Catalog, figures: list[str], where: str) -> None:
    items = load(where, "crisis.yaml")["direct"]
    kinds = [heard(catalog, i["text"]) for i in items]
    certain = sum(k not in (None, RISK) for k in kinds)
    missed = [i["text"] for i, k in zip(items, kinds, strict=True) if k is None]
    figures.append(f"{label(where)} direct crisis: crisis reply {rate(certain, len(items))}, "
                   f"heard (crisis reply or the safety question) "
                   f"{rate(len(items) - len(missed), len(items))}")
    assert 1 - len(missed) / len(items) >= FLOORS[where]["direct"], \
        problem(where, "direct", missed)


@pytest.mark.parametrize("where", SETS)
def test_indirect_signs_are_heard(catalog: Catalog, figures: list[str], where: str) -> None:
    items = load(where, "crisis.yaml")["indirect"]
    missed = [i for i in items if heard(catalog, i["text"]) is None]
    by_theme = Counter(i["theme"] for i in missed)
    figures.append(f"{label(where)} indirect signs: heard "
                   f"{rate(len(items) - len(missed), len(items))}; missed by theme "
                   f"{dict(by_theme)}")
    assert 1 - len(missed) / len(items) >= FLOORS[where]["indirect"], \
        problem(where, "indirect", [i["text"] for i in missed])


@pytest.mark.parametrize("where", SETS)
def test_false_alarms_are_rare(catalog: Catalog, figures: list[str], where: str) -> None:
    safe = load(where, "crisis.yaml")["safe"]
    ordinary = [{"group": "intent", "text": i["text"]}
                for i in load(where, "intents.yaml")["items"]]
    items = safe + ordinary
    alarms = [i for i in items if heard(catalog, i["text"]) is not None]
    idioms = [i for i in alarms if i["group"] == "idiom"]
    figures.append(f"{label(where)} false alarms: {rate(len(alarms), len(items))} of ordinary "
                   f"and idiomatic messages (idioms {len(idioms)})")
    assert len(alarms) / len(items) <= FLOORS[where]["alarms"], \
        problem(where, "alarms", [i["text"] for i in alarms])


@pytest.mark.parametrize("where", SETS)
def test_context(dialogs_dir: Path, figures: list[str], where: str) -> None:
    cases = load(where, "context.yaml")["conversations"]
    want = {"crisis": {"crisis"}, "ask": {"crisis", "ask"}, "ordinary": {"ordinary"}}
    chat = ChatClient(dialogs_dir)
    right = [play(chat.as_user(user), c["messages"]) in want[c["expect"]]
             for user, c in enumerate(cases, start=100)]
    wrong = [c for c, ok in zip(cases, right, strict=True) if not ok]
    kinds = Counter(c["expect"] for c in wrong)
    figures.append(f"{label(where)} conversations (context): {rate(sum(right), len(cases))}; "
                   f"wrong by expected outcome {dict(kinds)}")
    assert sum(right) / len(cases) >= FLOORS[where]["context"], \
        problem(where, "context", [str(c["messages"]) for c in wrong])


@pytest.mark.parametrize("where", SETS)
def test_feelings_get_an_answer(dialogs_dir: Path, catalog: Catalog, figures: list[str],
                                where: str) -> None:
    items = load(where, "feelings.yaml")["items"]
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
    figures.append(f"{label(where)} feelings: the right feeling {rate(routed, len(items))}; "
                   f"'not understood' or the urge tools {len(unanswered)}")
    assert len(unanswered) / len(items) <= FLOORS[where]["unanswered"], \
        problem(where, "unanswered", unanswered)


@pytest.mark.parametrize("where", SETS)
def test_intent_routing(catalog: Catalog, figures: list[str], where: str) -> None:
    items = load(where, "intents.yaml")["items"]
    wrong = [i["text"] for i in items
             if (catalog.understanding.intent(i["text"]).intent or "none") != i["intent"]]
    right = len(items) - len(wrong)
    figures.append(f"{label(where)} intents: {rate(right, len(items))} "
                   f"(bar {BAR['intents']:.0%})")
    assert right / len(items) >= FLOORS[where]["intents"], problem(where, "intents", wrong)
