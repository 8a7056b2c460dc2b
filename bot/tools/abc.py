"""The ABC tool (SMART's ABC of REBT): `find_absolutes` picks out the absolute words of a
belief ("I must", "always", "unbearable"; "debo", "siempre", "insoportable") for the person to
dispute. The words are the person's language's (dialogs/words/<language>.yaml, `abc:
absolutes`)."""

from __future__ import annotations

from bot.dialog.registry import Registry, check_in_save
from bot.dialog.turn import Turn
from bot.nlu.words import Words
from bot.phrases import whole


def absolutes(text: str, words: Words) -> list[str]:
    """The absolute words in a belief ("I must", "always", "unbearable"), in order, once."""
    pattern = whole(words.phrases("abc", "absolutes"))
    found = [" ".join(m.group(1).lower().replace("’", "'").split())
             for m in pattern.finditer(text)]
    return list(dict.fromkeys(found))


def register(reg: Registry) -> None:
    @reg.action("find_absolutes", check=check_in_save, saves=lambda a: [a["save"]])
    def find_absolutes(turn: Turn, args: dict[str, str]) -> None:
        """Save the absolute words of an answer: find_absolutes: {in: abc.b, save: abc.words}.
        Nothing found: the key is cleared, so `answered` tells whether there were any."""
        words = absolutes(str(turn.answers.get(args["in"], "")), turn.words or Words())
        if words:
            turn.answers[args["save"]] = ", ".join(f'"{w}"' for w in words)
        else:
            turn.answers.pop(args["save"], None)
