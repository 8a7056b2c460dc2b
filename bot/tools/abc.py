"""The ABC tool (SMART's ABC of REBT): `find_absolutes` picks out the absolute words of a
belief ("I must", "always", "unbearable") for the person to dispute."""

from __future__ import annotations

import re

from bot.dialog.registry import Registry, check_in_save
from bot.dialog.turn import Turn

ABSOLUTES = ("must", "mustn't", "should", "shouldn't", "have to", "has to", "got to",
             "can't", "cannot", "ought", "always", "never", "need", "needs", "awful",
             "terrible", "horrible", "unbearable", "everyone", "nobody", "nothing")
_ABSOLUTE = re.compile(r"\b(" + "|".join(re.escape(w) for w in ABSOLUTES) + r")\b",
                       re.IGNORECASE)


def absolutes(text: str) -> list[str]:
    """The absolute words in a belief ("I must", "always", "unbearable"), in order, once."""
    found = [m.group(1).lower().replace("’", "'") for m in _ABSOLUTE.finditer(text)]
    return list(dict.fromkeys(found))



def register(reg: Registry) -> None:
    @reg.action("find_absolutes", check=check_in_save, saves=lambda a: [a["save"]])
    def find_absolutes(turn: Turn, args: dict[str, str]) -> None:
        """Save the absolute words of an answer: find_absolutes: {in: abc.b, save: abc.words}.
        Nothing found: the key is cleared, so `answered` tells whether there were any."""
        words = absolutes(str(turn.answers.get(args["in"], "")))
        if words:
            turn.answers[args["save"]] = ", ".join(f'"{w}"' for w in words)
        else:
            turn.answers.pop(args["save"], None)

