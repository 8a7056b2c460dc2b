"""Free-text understanding on the evaluation sets in tests/eval/, and how the engine acts on
it: the crisis net from every step of every dialog, asking when unsure, switching only on a
clear request. The figures are printed at the end of the run."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from bot.dialog.loader import load_catalog
from bot.dialog.spec import CRISIS_DIALOG, Catalog
from bot.nlu.intents import Guess
from bot.nlu.understanding import Understanding
from bot.storage.base import StepWrites, UserRecord
from bot.testing import ChatClient
from bot.tools import default_registry

pytestmark = pytest.mark.slow  # the evaluation sets and every step of every dialog: ~10 s

EVAL = Path(__file__).parent / "eval" / "dev"  # tuned on; tests/eval/heldout is not
NUMBERS = ("999", "116 123", "111, option 2")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Path(__file__).resolve().parent.parent / "dialogs", default_registry())


def test_crisis_recall_is_total_and_false_alarms_are_reported(catalog: Catalog,
                                                             figures: list[str]) -> None:
    data = yaml.safe_load((EVAL / "crisis.yaml").read_text())
    understanding = catalog.understanding
    missed = [i for i in data["crisis"] if understanding.crisis(i["text"]) is None]
    alarms = [t for t in data["safe"] if understanding.crisis(t)]
    intents = yaml.safe_load((EVAL / "intents.yaml").read_text())["items"]
    ordinary = [i["text"] for i in intents if understanding.crisis(i["text"])]
    kinds = Counter(i["kind"] for i in data["crisis"])
    figures.append(f"crisis: recall {len(data['crisis']) - len(missed)}/{len(data['crisis'])} "
                   f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); false alarms "
                   f"{len(alarms)}/{len(data['safe'])} on idioms and near-misses, "
                   f"{len(ordinary)}/{len(intents)} on ordinary messages {ordinary}")
    assert missed == [], f"crisis statements not caught: {missed}"
    assert len(alarms) <= len(data["safe"]) * 0.05, f"false alarms: {alarms}"


def test_intent_accuracy_is_above_95_percent_for_every_intent(catalog: Catalog,
                                                             figures: list[str]) -> None:
    items = yaml.safe_load((EVAL / "intents.yaml").read_text())["items"]
    right: dict[str, int] = defaultdict(int)
    asked: dict[str, int] = defaultdict(int)
    total: Counter[str] = Counter(i["intent"] for i in items)
    wrong = []
    for item in items:
        guess = catalog.understanding.intent(item["text"])
        got = guess.intent or "none"
        if got == item["intent"]:
            right[item["intent"]] += 1
        elif item["intent"] in guess.alternatives:
            asked[item["intent"]] += 1  # it would ask, with the right button: not counted right
        else:
            wrong.append((item["text"], item["intent"], got))
    rates = {name: right[name] / count for name, count in total.items()}
    figures.append("intents: " + ", ".join(f"{n} {rates[n]:.0%}" for n in sorted(rates))
                   + f"; overall {sum(right.values()) / len(items):.1%} of {len(items)}; "
                   f"{sum(asked.values())} would be asked about")
    assert all(rate > 0.95 for rate in rates.values()), (rates, wrong)


def test_the_eval_sets_are_large_and_balanced() -> None:
    intents = Counter(i["intent"] for i in yaml.safe_load(
        (EVAL / "intents.yaml").read_text())["items"])
    crisis = yaml.safe_load((EVAL / "crisis.yaml").read_text())
    assert sum(intents.values()) >= 300 and min(intents.values()) >= 30
    assert len(crisis["crisis"]) >= 150 and len(crisis["safe"]) >= 100


def every_step(catalog: Catalog) -> list[tuple[str, str]]:
    return [(d.name, s) for d in catalog.dialogs.values() if d.name != CRISIS_DIALOG
            for s in d.states]


def test_a_crisis_interrupts_every_step_of_every_dialog(dialogs_dir: Path,
                                                       figures: list[str]) -> None:
    chat = ChatClient(dialogs_dir)
    steps = every_step(chat.engine.catalog)
    for user, (dialog, state) in enumerate(steps, start=1000):
        chat.engine.store.save_step(StepWrites(UserRecord(user, dialog=dialog, state=state)),
                                    chat.clock.now())
        person = chat.as_user(user)
        person.send("honestly everyone would be better off without me")
        assert "Are you safe right now?" in person.text, (dialog, state, person.texts)
        assert all(number in person.text for number in NUMBERS), (dialog, state)
        assert person.position[0] == CRISIS_DIALOG
    figures.append(f"crisis net: interrupted all {len(steps)} steps of "
                   f"{len({d for d, _ in steps})} dialogs")


def test_after_a_crisis_the_person_can_go_back_to_where_they_were(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("/cba")
    chat.send("it helps me relax")
    assert chat.position == ("cba", "costs_use")
    chat.send("i want to kill myself")
    chat.press("I'm safe right now")
    assert "safety plan" in chat.text
    chat.press("Go back to what we were doing")
    assert chat.texts[-1] == "And what does it cost you, now and later on?"
    assert chat.position == ("cba", "costs_use")
    chat.send("money and sleep")  # the answer goes where it belongs
    assert chat.answers["cba.costs_use"] == "money and sleep"


def test_an_overdose_gets_first_aid_advice_and_the_numbers(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("my mate took too much and he wont wake up")
    assert "recovery position" in chat.text and "naloxone" in chat.text
    assert "999" in chat.text


def test_idioms_do_not_raise_the_alarm(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("this craving is killing me")
    assert chat.position == ("urge", "rate")  # an urge, not a crisis


def test_free_text_craving_opens_the_urge_flow(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("i really want a drink right now")
    assert chat.position == ("urge", "rate")
    assert "How strong is it right now, from 0 to 10?" in chat.text


def test_a_free_text_answer_stays_an_answer_unless_it_asks_to_switch(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("/cba")
    chat.send("i want a drink to relax")  # sounds like an urge, but it answers the question
    assert chat.answers["cba.benefits_use"] == "i want a drink to relax"
    chat.send("cancel")  # a clear request to stop
    assert chat.position == (None, None)
    assert "stopped there" in chat.text


def test_when_unsure_the_bot_asks_with_buttons(dialogs_dir: Path) -> None:
    real = load_catalog(dialogs_dir, default_registry()).understanding

    class Unsure(Understanding):
        """The real model and crisis net, except that one phrase is ambiguous."""

        def intent(self, text: str) -> Guess:
            if text == "goals or progress":
                return Guess(None, 0.3, ("goals", "progress"))
            return real.intent(text)

    chat = ChatClient(dialogs_dir, understanding=Unsure(real.crisis_detector, real.classifier))
    chat.send("goals or progress")
    assert chat.texts == ["I want to be sure I understood. Did you mean one of these?"]
    assert chat.buttons == ["My goals", "My progress", "Something else"]
    chat.press("My goals")
    assert chat.position == ("goals", "what")
    chat.send("/cancel")
    chat.send("goals or progress")
    chat.press("Something else")
    assert chat.text.startswith("Tell me a little more, in your own words")
    chat.send("goals or progress")
    chat.send("2")  # typed instead of tapped: the second button
    assert chat.position == ("progress", chat.position[1])
    chat.send("/cancel")
    chat.press_data("?|nonsense")  # forged: no such intent
    assert chat.text.startswith("I'm not sure I understood that.")


def test_greetings_and_thanks_get_a_reply(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("hiya")
    assert chat.text.startswith("Hi! Good to hear from you.")
    chat.send("cheers for that")
    assert chat.text.startswith("You're welcome.")


def test_a_free_text_answer_is_the_answer_unless_it_asks_what_the_question_means(
        dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    chat.send("/lapse")
    chat.press("Ashamed")
    before = chat.position
    chat.send("what do you mean")
    assert chat.position == before and "lapse.trigger" not in chat.answers
    assert "What was happening just before?" in chat.text  # the step, with a word of help
    chat.send("when i got paid and went to the pub")  # starts like a question: an answer
    assert chat.answers["lapse.trigger"] == "when i got paid and went to the pub"


def test_the_risk_classifier_must_be_surer_to_interrupt_an_answer(dialogs_dir: Path) -> None:
    chat = ChatClient(dialogs_dir)
    detector = chat.engine.catalog.understanding.crisis_detector
    assert detector is not None and detector.risk_model is not None
    assert detector.risk_model.answer_threshold > detector.risk_model.threshold
    chat.send("/abc")
    chat.send("my boss shouted at me")
    chat.send("I must never fail, it's unbearable")  # a belief, hard words expected: an answer
    assert chat.answers["abc.b"] == "I must never fail, it's unbearable"
    chat.send("/lapse")
    chat.press("Low")
    chat.send("i dont think i have any reasons left")  # surely a possible sign: the question
    assert chat.position == (CRISIS_DIALOG, "ask")
    assert "thoughts of ending your life" in chat.text and "999" in chat.text
