"""The crisis safety net: does a message signal suicide, self-harm, overdose, a medical
emergency, harm to others or abuse? Offline patterns over the normalised message.

Two nets, checked before anything else in every state of every dialog:
- `kinds`: certain signs. The crisis conversation opens at once with the numbers.
- `risk`: possible signs (passive ideation, hopelessness, being a burden, goodbyes, giving
  things away, looking up a method, using everything at once). The bot asks plainly
  whether the person is thinking of ending their life, with the numbers in view.
People in crisis rarely say it in one message, so the net also reads a message with what
came before: a means of harm named a little earlier ("my pills are here") makes a message
that refers back to it ("I might take them all") a crisis, and for a while after any sign
(`careful`) weaker ones ("what's the point anyway") get the question too.

Missing a crisis is far worse than a false alarm, so the patterns lean wide. Ordinary
idioms ("this craving is killing me", "dying for a coffee") are removed first by the
`ignore` list. Longer key words are corrected when misspelt ("sucide", "overdoesd"), never
the short ones: "kill" is one letter from "will" and "fill"; nor a word the patterns spell
out as itself (`words`): Spanish "ahorcar" (to hang someone) is two letters from "ahorcarme"
(to hang myself), "ahogarme" (to drown myself) from it too, "esperando" from "respirando".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from bot.errors import Problem
from bot.nlu.intents import Scorer, train
from bot.nlu.normalize import normalize
from bot.nlu.rules import Rule, RuleSet, grams
from bot.yamlfile import Parsed

MIN_CORRECTED = 5  # letters a key word needs before a misspelling of it is corrected
REMEMBERED = 50_000  # words whose correction is kept (a few MB at most)
RISK = "risk"  # the kind given to a possible sign: ask, don't assume
REFERS_BACK = "suicide"  # intent to use a means named before is a crisis, not first aid


@dataclass(frozen=True, slots=True)
class Signal:
    """What one message says about safety, read with what came before."""

    kind: str | None = None  # a crisis kind (suicide, overdose ...), RISK, or None
    means: str | None = None  # a means of harm it names ("pills"), to remember a while
    # RISK only from the weaker signs that count after a recent one: the message may be an
    # answer ("money and sleep"), so it is a sign only when it is not one.
    weak: bool = False


@dataclass(frozen=True)
class RiskModel:
    """P(a possible sign) from TF-IDF and logistic regression (the intent model's recipe),
    trained on dialogs/crisis/examples/<language>.yaml with every intent example as a
    counter-example. Patterns are exact but miss new wordings; this generalises."""

    scorer: Scorer
    threshold: float  # chosen without the held-out sets (bench/risk_threshold.py)
    answer_threshold: float  # for an answer to a question that takes any words

    def probability(self, message: str) -> float:
        text = message.strip()
        if not text:
            return 0.0
        return self.scorer.probabilities(text)[self.scorer.classes.index(RISK)]

    def says_risk(self, message: str, answering: bool = False) -> bool:
        bar = self.answer_threshold if answering else self.threshold
        return self.probability(message) >= bar


def build_risk_model(parsed: Parsed, counter_examples: tuple[str, ...] = ()
                     ) -> tuple[RiskModel | None, list[Problem]]:
    """From an examples file: risk: [messages], safe: [messages], threshold: 0-1 and
    answer_threshold: 0-1."""
    data: Any = parsed.data
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return None, [parsed.problem((), "expected risk: [...], safe: [...], threshold:")]
    for key in data:
        if key not in ("risk", "safe", "threshold", "answer_threshold"):
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: risk, "
                                                   "safe, threshold, answer_threshold)"))
    lists = {}
    for key in ("risk", "safe"):
        items = data.get(key)
        if not isinstance(items, list) or len(items) < 10 or \
                not all(isinstance(i, str) for i in items):
            problems.append(parsed.problem((key,), "expected a list of at least ten messages"))
            items = []
        lists[key] = [normalize(i) for i in items if normalize(i)]
    bars = {}
    for key in ("threshold", "answer_threshold"):
        bars[key] = data.get(key, 0.5)
        if not isinstance(bars[key], int | float) or not 0 < bars[key] < 1:
            problems.append(parsed.problem((key,), f"{key} must be a number between 0 and 1"))
    if problems:
        return None, problems
    examples = (*lists["risk"], *lists["safe"], *counter_examples)
    owners = (RISK,) * len(lists["risk"]) + ("safe",) * (len(examples) - len(lists["risk"]))
    return RiskModel(Scorer.of(train(examples, owners)), float(bars["threshold"]),
                     float(bars["answer_threshold"])), []


@dataclass(frozen=True, slots=True)
class Context:
    """What the engine remembers between messages (see bot.dialog.engine)."""

    careful: bool = False  # a sign came recently: weaker ones count too
    means: str | None = None  # a means of harm named recently
    # The message answers a question that takes any words ("what was the belief?"): the
    # classifier must be surer before it interrupts ("I must never fail, it's unbearable").
    answering: bool = False


@dataclass(frozen=True)
class CrisisDetector:
    ignore: tuple[Rule, ...]
    kinds: tuple[tuple[str, RuleSet], ...]
    vocabulary: frozenset[str]
    spellings: dict[str, str]
    risk: RuleSet = RuleSet(())
    careful: RuleSet = RuleSet(())
    means: tuple[tuple[str, Rule], ...] = ()
    refers_back: RuleSet = RuleSet(())
    # A small classifier beside the `risk` patterns: wordings no pattern was written for.
    risk_model: RiskModel | None = None
    # The words the patterns spell out (written_words): real words their authors meant as
    # themselves, kept as written, never "corrected" onto a key word a letter or two away.
    # (Not the examples' words: those misspell key words on purpose, "myslef".)
    words: frozenset[str] = frozenset()
    # A fixed order to try key words in: a typo near two of them ("overdosd") is then
    # corrected the same way in every run, not in the set's hash order.
    ordered: tuple[str, ...] = field(init=False, repr=False, compare=False)
    corrections: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ordered", tuple(sorted(self.vocabulary)))

    def detect(self, text: str) -> str | None:
        """The kind of crisis the message signals (suicide, overdose ...), or None: the
        certain signs only, on the message alone."""
        message = self._prepare(text)
        pieces = grams(message)
        return next((kind for kind, rules in self.kinds if rules.any(message, pieces)), None)

    def assess(self, text: str, context: Context | None = None) -> Signal:
        """Both nets, with what came before."""
        context = context or Context()
        message = self._prepare(text)
        pieces = grams(message)

        means = next((name for name, rule in self.means if rule.search(message, pieces)), None)
        for kind, rules in self.kinds:
            if rules.any(message, pieces):
                return Signal(kind, means)
        named = means or context.means
        if named and self.refers_back.any(message, pieces):
            return Signal(REFERS_BACK, named)  # intent to use it: more than a possible sign
        if self.risk.any(message, pieces) or (
                self.risk_model is not None and
                self.risk_model.says_risk(message, answering=context.answering)):
            return Signal(RISK, means)
        if context.careful and (means or self.careful.any(message, pieces)):
            return Signal(RISK, means, weak=True)
        return Signal(None, means)

    def _prepare(self, text: str) -> str:
        message = f" {self._correct(normalize(text))} "
        pieces = grams(message)
        for idiom in self.ignore:
            message = idiom.sub(" ", message, pieces)
        return message

    def _correct(self, message: str) -> str:
        # A phone spelling is replaced as written ("overdoing" -> "over doing": an everyday
        # word one letter from a key word), never corrected further.
        return " ".join(self.spellings[word] if word in self.spellings else
                        self._corrected(word) for word in message.split())

    def _corrected(self, word: str) -> str:
        """The key word a misspelt word stands for, or the word. Remembered: people use the
        same few thousand words, and trying every key word costs more than the rest."""
        found = self.corrections.get(word)
        if found is not None:
            return found
        found = word
        if len(word) >= MIN_CORRECTED - 1 and word not in self.vocabulary and \
                word not in self.words:
            for known in self.ordered:
                if word.startswith(known):
                    break  # an ending added ("strangled", "tablet"s): not a misspelling
                allowed = 1 if len(known) < 8 else 2
                if abs(len(known) - len(word)) <= allowed and \
                        OSA.distance(word, known, score_cutoff=allowed) <= allowed:
                    found = known
                    break
        if len(self.corrections) < REMEMBERED:
            self.corrections[word] = found
        return found


LETTERS = re.compile(r"(?<![a-z])[a-z]+(?:\[[a-z]+\][a-z]*)*(?![a-z])")


def written_words(pattern: str) -> set[str]:
    """The whole words a pattern spells out, with a class of letters read each way
    ("ahorcarl[oa]" -> ahorcarlo, ahorcarla): words its author meant as themselves."""
    found: set[str] = set()
    for token in LETTERS.findall(re.sub(r"\\[a-zA-Z]", " ", pattern).lower()):
        forms = [""]
        for letters, plain in re.findall(r"\[([a-z]+)\]|([a-z]+)", token):
            forms = [form + piece for form in forms for piece in (letters or plain)] \
                if letters else [form + plain for form in forms]
        found.update(forms[:8])
    return found


def build_crisis(parsed: Parsed) -> tuple[CrisisDetector | None, list[Problem]]:
    """From a parsed crisis file: kinds: {kind: [regex]}, and optional ignore: [regex],
    spellings: {written: meant}, vocabulary: [word], risk: [regex], careful: [regex],
    means: {name: regex}, refers_back: [regex]."""
    data: Any = parsed.data
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
        return None, [parsed.problem((), "expected kinds: {kind: [patterns]}, plus optional "
                                         "ignore: [idioms] and vocabulary: [words]")]
    known = ("ignore", "spellings", "vocabulary", "kinds", "risk", "careful", "means",
             "refers_back")
    for key in data:
        if key not in known:
            problems.append(parsed.problem((key,), f"unknown key '{key}' (known keys: "
                                                   f"{', '.join(known)})"))

    def compile_all(items: Any, path: tuple[Any, ...]) -> tuple[Rule, ...]:
        if not isinstance(items, list) or not items:
            problems.append(parsed.problem(path, "expected a list of patterns"))
            return ()
        compiled = []
        for i, item in enumerate(items):
            try:
                compiled.append(Rule.compile(str(item)))
            except re.error as exc:
                problems.append(parsed.problem((*path, i), f"pattern '{item}' is not a valid "
                                                           f"regular expression: {exc}"))
        return tuple(compiled)

    ignore = compile_all(data.get("ignore", ["$^"]), ("ignore",))
    kinds = tuple((str(kind), RuleSet(compile_all(items, ("kinds", kind))))
                  for kind, items in data["kinds"].items())
    risk, careful, refers_back = (
        RuleSet(compile_all(data[key], (key,)) if key in data else ())
        for key in ("risk", "careful", "refers_back"))
    means_data = data.get("means", {})
    if not isinstance(means_data, dict):
        problems.append(parsed.problem(("means",), "expected {name: pattern}, e.g. "
                                                   "pills: '\\b(pills|tablets)\\b'"))
        means_data = {}
    means: list[tuple[str, Rule]] = []
    for name, item in means_data.items():
        try:
            means.append((str(name), Rule.compile(str(item))))
        except re.error as exc:
            problems.append(parsed.problem(("means", name), f"pattern '{item}' is not a valid "
                                                            f"regular expression: {exc}"))
    vocabulary = data.get("vocabulary", [])
    if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
        problems.append(parsed.problem(("vocabulary",), "expected a list of words"))
        vocabulary = []
    short = [w for w in vocabulary if len(w) < MIN_CORRECTED]
    if short:
        problems.append(parsed.problem(("vocabulary",), f"words shorter than {MIN_CORRECTED} "
                                       f"letters are not corrected safely: {', '.join(short)}"))
    spellings = data.get("spellings", {})
    if not isinstance(spellings, dict):
        problems.append(parsed.problem(("spellings",), "expected {as written: as meant}"))
        spellings = {}
    if problems:
        return None, problems
    written = {word for rules in (ignore, *(r.rules for _, r in kinds), risk.rules,
                                  careful.rules, refers_back.rules, tuple(r for _, r in means))
               for rule in rules for word in written_words(rule.pattern.pattern)}
    return CrisisDetector(ignore, kinds, frozenset(normalize(w) for w in vocabulary),
                          {normalize(str(k)): normalize(str(v)) for k, v in spellings.items()},
                          risk, careful, tuple(means), refers_back,
                          words=frozenset(written)), []
