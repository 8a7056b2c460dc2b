"""What a person's change is about (drinking, gambling, family…), from the focus they gave
at /start and the words that opened the current dialog, read with the topic word lists of
their language (dialogs/words/<language>.yaml)."""

from __future__ import annotations

from bot.dialog.spec import INTENT_TEXT
from bot.dialog.turn import Turn

FOCUS = "focus"  # the answer /start saves: "drinking", "my son's gambling"


def topics_of(turn: Turn) -> set[str]:
    if turn.words is None:
        return set()
    said = f"{turn.answers.get(FOCUS, '')} {turn.answers.get(INTENT_TEXT, '')}"
    return turn.words.topics_in(said)
