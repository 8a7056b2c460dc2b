"""Meeting type codes as people read them: the Meeting Guide specification's list
(code4recovery), plus the names SMART Recovery feeds use. Each code's name is a text
(`type_<name>` in messages.yaml `texts:`), so it reads in the person's language; a feed's
own words pass through."""

from __future__ import annotations

from bot.formats import Say

# Code -> the name of its text, type_<name>.
TYPES = {
    "O": "open", "C": "closed", "W": "women", "M": "men", "Y": "young_people",
    "SEN": "seniors", "LGBTQ": "lgbtq", "G": "gay", "L": "lesbian", "T": "transgender",
    "POC": "people_of_colour", "NDG": "indigenous", "BE": "newcomers", "BEG": "beginners",
    "D": "discussion", "SP": "speaker", "ST": "step_meeting", "B": "big_book",
    "LIT": "literature", "MED": "meditation", "X": "wheelchair_access",
    "XB": "wheelchair_bathroom", "BA": "babysitting",
    "CF": "child_friendly", "FF": "fragrance_free", "ASL": "sign_language",
    "EN": "english", "S": "spanish", "FR": "french", "ONL": "online",
    "TC": "temporarily_closed", "OUT": "outdoors", "HY": "hybrid",
    # SMART Recovery's own kinds of meeting
    "FAM": "family", "F&F": "family", "FAMILY": "family",
    "SMART": "smart_recovery", "YA": "young_adults",
}
TEXTS = {f"type_{name}": () for name in TYPES.values()}
# Meetings for the people around someone, not for someone changing their own habit.
NOT_FOR_ONESELF = frozenset({"FAM", "F&F", "FAMILY", "AL-AN", "AL"})
# The code of a meeting held in a language: saying so of every meeting in the language the
# person reads says nothing.
LANGUAGES = {"en": "EN", "es": "S", "fr": "FR"}


def type_name(code: str, say: Say) -> str:
    """The type's name in the person's language ("W" -> "Women", "Mujeres")."""
    name = TYPES.get(code.strip().upper())
    return say(f"type_{name}") if name else code.strip()
