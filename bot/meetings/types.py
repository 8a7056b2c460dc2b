"""Meeting type codes as people read them: the Meeting Guide specification's list
(code4recovery), plus the names SMART Recovery feeds use. A feed's own words pass through."""

from __future__ import annotations

TYPES = {
    "O": "Open", "C": "Closed", "W": "Women", "M": "Men", "Y": "Young people",
    "SEN": "Seniors", "LGBTQ": "LGBTQ+", "G": "Gay", "L": "Lesbian", "T": "Transgender",
    "POC": "People of colour", "NDG": "Indigenous", "BE": "Newcomers", "BEG": "Beginners",
    "D": "Discussion", "SP": "Speaker", "ST": "Step meeting", "B": "Big Book",
    "LIT": "Literature", "MED": "Meditation", "X": "Wheelchair access",
    "XB": "Wheelchair-accessible bathroom", "BA": "Babysitting available",
    "CF": "Child-friendly", "FF": "Fragrance free", "ASL": "Sign language",
    "EN": "English", "S": "Spanish", "FR": "French", "ONL": "Online",
    "TC": "Location temporarily closed", "OUT": "Outdoors", "HY": "Hybrid",
    # SMART Recovery's own kinds of meeting
    "FAM": "Family & Friends", "F&F": "Family & Friends", "FAMILY": "Family & Friends",
    "SMART": "SMART Recovery", "YA": "Young adults",
}
# Meetings for the people around someone, not for someone changing their own habit.
NOT_FOR_ONESELF = frozenset({"FAM", "F&F", "FAMILY", "AL-AN", "AL"})


def type_name(code: str) -> str:
    return TYPES.get(code.strip().upper(), code.strip())
