"""Bring a message to the form the patterns and examples are written in."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"[’'`´]")
_NOT_WORD = re.compile(r"[^\w\s]+")
_REPEATS = re.compile(r"(\w)\1{2,}")  # "soooo" -> "soo"
_SPACES = re.compile(r"\s+")


def _emoji_as_words(text: str) -> str:
    """"🍺😭" -> " beer mug  loudly crying face ": an emoji says something ("struggling"),
    and its Unicode name lets patterns and examples read it instead of losing it."""
    if text.isascii():
        return text
    return "".join(f" {unicodedata.name(ch, '').lower()} "
                   if unicodedata.category(ch) == "So" else ch for ch in text)


def normalize(text: str) -> str:
    """Lower case, no accents on apostrophes, no punctuation, emoji as words, single spaces:
    "I can't…  STOP!!! 😭" -> "i cant stop loudly crying face"."""
    text = _emoji_as_words(unicodedata.normalize("NFKC", text)).lower()
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()
