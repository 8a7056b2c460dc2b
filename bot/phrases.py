"""Words and phrases people type, as patterns that find them whole, in any case and with or
without accents ("sabado" finds "sábado" and "sábado" finds "sabado"): the tools' own words
(dialogs/words/<language>.yaml, sections when, reminder, abc)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

# Each plain letter stands for itself and its accented forms (and ñ for n: people type
# "manana" for "mañana").
_FORMS = {"a": "aáàâä", "e": "eéèêë", "i": "iíìîï", "o": "oóòôö", "u": "uúùûü", "n": "nñ",
          "c": "cç", "'": "'’"}


def plain(text: str) -> str:
    """Lower case without accents: "Sábado" -> "sabado"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tolerant(phrase: str) -> str:
    out = []
    for ch in plain(phrase.strip()):
        if ch in _FORMS:
            out.append(f"[{_FORMS[ch]}]")
        elif ch == " ":
            out.append(r"\s+")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def alternatives(phrases: Iterable[str]) -> str:
    """A regular expression (no group) for any of the phrases, longest first, so "esta
    mañana" wins over "mañana" where both start."""
    unique = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return "|".join(_tolerant(p) for p in unique) or r"(?!x)x"


def whole(phrases: Iterable[str]) -> re.Pattern[str]:
    """Finds any of the phrases as whole words: group 1 is the phrase found."""
    return re.compile(rf"(?<!\w)({alternatives(phrases)})(?!\w)", re.IGNORECASE)


class Lists(Protocol):
    """A language's word lists for the tools (bot.nlu.words.Words)."""

    def phrases(self, section: str, name: str) -> tuple[str, ...]: ...
