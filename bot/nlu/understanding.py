"""Everything the engine asks about free text: is it a crisis, and what does it ask for."""

from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.crisis import Context, CrisisDetector, Signal
from bot.nlu.intents import Guess, IntentClassifier
from bot.nlu.words import Words

SWITCH_WORDS = 4  # a "clear request to switch" is short: "stop this", "find a meeting"


@dataclass(frozen=True)
class Understanding:
    crisis_detector: CrisisDetector | None
    classifier: IntentClassifier | None
    switch: float = 0.85  # how sure a short message must be to leave a free-text question
    words: Words = Words()  # everyday answers: yes, no, numbers in words, idk ...

    def crisis(self, text: str) -> str | None:
        return self.crisis_detector.detect(text) if self.crisis_detector else None

    def safety(self, text: str, context: Context | None = None) -> Signal:
        """Both safety nets, with what came before (see bot.nlu.crisis)."""
        if self.crisis_detector is None:
            return Signal()
        return self.crisis_detector.assess(text, context or Context())

    def intent(self, text: str) -> Guess:
        return self.classifier.classify(text) if self.classifier else Guess(None, 0.0)

    def may_switch(self, text: str) -> bool:
        """Whether text is short enough to be a request to switch (checked before the model)."""
        return bool(self.classifier and self.classifier.switch) and \
            0 < len(text.split()) <= SWITCH_WORDS

    def switches(self, text: str, guess: Guess) -> bool:
        """Whether text typed as an answer is really a clear request to go elsewhere: short,
        confidently one of the intents allowed to interrupt (cancel, help ...)."""
        allowed = self.classifier.switch if self.classifier else frozenset()
        return guess.intent in allowed and guess.confidence >= self.switch and \
            len(text.split()) <= SWITCH_WORDS

    def label(self, intent: str) -> str:
        found = self.classifier.intents.get(intent) if self.classifier else None
        return found.label if found else intent

    def reply(self, intent: str) -> str:
        found = self.classifier.intents.get(intent) if self.classifier else None
        return found.reply if found else ""

    def knows(self, intent: str) -> bool:
        return bool(self.classifier and intent in self.classifier.intents)
