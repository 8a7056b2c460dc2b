"""Dates, times, numbers, lists and country names as a person's language writes them
(CLDR's data, through Babel): "Mon 05 Jan, 09:00" / "lun 05 ene, 09:00", "0.6" / "0,6",
"a, b and c" / "a, b y c", "Spain" / "España".

A language code ("en", "es") is read as a CLDR locale; the dialogs' English is British
("colour", "centre", the 24-hour clock people are used to in the UK), so "en" is en_GB.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from functools import cache
from typing import Any, Literal, Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.numbers import format_decimal

# The CLDR locale a language code means, where it is not the code itself.
LOCALES = {"en": "en_GB"}
FALLBACK = "en_GB"
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@cache
def cldr(language: str) -> Locale:
    """The CLDR locale for a language code ("en" -> en_GB); an unknown one reads as English."""
    try:
        return Locale.parse(LOCALES.get(language, language).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def clock(moment: datetime | time, language: str) -> str:
    """The time of day on a 24-hour clock, as the language writes it: "09:00", "9:00"."""
    return format_time(moment, "HH:mm" if cldr(language).language == "en" else "H:mm",
                       locale=cldr(language))


def day_and_time(moment: datetime, language: str) -> str:
    """A short day, date and time: "Mon 05 Jan, 09:00", "lun 05 ene, 09:00"."""
    return f"{format_datetime(moment, 'EEE dd MMM', locale=cldr(language))}, " \
           f"{clock(moment, language)}"


def short_date(day: date, language: str) -> str:
    """A day and month for a chart's axis: "05 Jan", "05 ene"."""
    return format_date(day, "dd MMM", locale=cldr(language))


def weekday(day: date | datetime, language: str) -> str:
    """The day's name as it stands in a sentence: "Monday", "lunes"."""
    return format_date(day, "EEEE", locale=cldr(language))


def decimal(number: float, language: str, digits: int = 1) -> str:
    """A number with `digits` decimals, in the language's way: "0.6", "0,6"."""
    return format_decimal(number, "#,##0." + "0" * digits if digits else "#,##0",
                          locale=cldr(language))


def whole(number: int, language: str) -> str:
    """A count: "1,200", "1200" (Spanish groups only from five digits)."""
    return format_decimal(number, locale=cldr(language))


def items(words: Sequence[str], language: str,
          style: Literal["standard", "or"] = "standard") -> str:
    """"a, b and c" ("or" style: "a, b or c") in the language's way."""
    return format_list(list(words), style=style, locale=cldr(language)) if words else ""


def country_name(code: str, language: str) -> str | None:
    """A country's name in the language ("ES" -> "Spain", "España"); None if CLDR has none."""
    return cldr(language).territories.get(code.upper())


def language_name(code: str) -> str:
    """A language's name in itself, as a menu shows it: "English", "Español"."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        name = code
    return name[:1].upper() + name[1:]


class Say(Protocol):
    """A tool's sentence in the person's language, filled in: Turn.text, FactContext.text."""

    def __call__(self, key: str, **values: Any) -> str: ...


def day_name(day: int, language: str) -> str:
    """A weekday's name (0 = Monday) as it stands in a sentence: "Saturday", "sábado"."""
    return str(cldr(language).days["format"]["wide"][day])
