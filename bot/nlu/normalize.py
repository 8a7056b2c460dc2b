"""Bring a message to the form the patterns and examples are written in."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"[’'`´]")
_NOT_WORD = re.compile(r"[^\w\s]+")
_REPEATS = re.compile(r"(\w)\1{2,}")  # "soooo" -> "soo"
_SPACES = re.compile(r"\s+")
# Accents and tildes (U+0300-U+036F once a letter is decomposed): people type "esta" for
# "está" and "manana" for "mañana", so neither patterns nor examples can rely on them.
# Only this block: marks that are letters' vowels in other scripts are left alone.
_ACCENTS = re.compile("[\u0300-\u036f]+")


def _emoji_as_words(text: str) -> str:
    """"🍺😭" -> " beer mug  loudly crying face ": an emoji says something ("struggling"),
    and its Unicode name lets patterns and examples read it instead of losing it."""
    if text.isascii():
        return text
    return "".join(f" {unicodedata.name(ch, '').lower()} "
                   if unicodedata.category(ch) == "So" else ch for ch in text)


def _without_accents(text: str) -> str:
    """"¿Qué pasó, mañana?" -> "¿Que paso, manana?" (the ¿ goes with the punctuation)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))


def normalize(text: str) -> str:
    """Lower case, no accents on apostrophes, no punctuation, emoji as words, no accents on
    letters, single spaces: "I can't…  STOP!!! 😭" -> "i cant stop loudly crying face",
    "¡¿Qué está pasando?!" -> "que esta pasando"."""
    text = _without_accents(_emoji_as_words(unicodedata.normalize("NFKC", text)).lower())
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()
