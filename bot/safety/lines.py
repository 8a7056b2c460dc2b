"""Crisis lines by country, and ways to guess a person's country.

The table ships as bot/safety/lines.yaml (its header describes the format); an operator's file
in the same format replaces whole countries or adds new ones. The country comes from what the
bot already knows: the time zone a person set, a location they shared, or the language code
Telegram sends. Anything unknown falls back to the `default` entry, never to another country's
numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.hints import did_you_mean
from bot.places import zone_at
from bot.yamlfile import Parsed, parse

DEFAULT = "default"  # the table's entry for people whose country is not known
SHIPPED = "bot/safety/lines.yaml"  # how errors in the shipped table name it

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_COUNTRY_KEYS = ("name", "emergency", "phone", "text", "sources", "checked")
_LINE_KEYS = ("label", "number", "text", "web")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # a line's label in a language: es: "..."


@dataclass(frozen=True, slots=True)
class Line:
    """One way to get help: a number to call, something to text, or a web page."""

    label: str
    number: str = ""
    text: str = ""
    web: str = ""
    # (language, label, its number/text/web in that language or "") where the table gives one
    languages: tuple[tuple[str, str, str], ...] = ()

    @property
    def shown(self) -> str:
        """One bullet line: "Samaritans (24/7, free): 116 123"."""
        return self.shown_as(self.label)

    def shown_as(self, label: str, how: str = "") -> str:
        how = how or self.number or self.text or self.web
        return f"{label}: {how}" if how else label

    def in_language(self, language: str) -> tuple[str, str] | None:
        """(label, number or text) in a language, if the table gives them (es: ...)."""
        return next(((label, how) for code, label, how in self.languages if code == language),
                    None)


@dataclass(frozen=True, slots=True)
class CountryLines:
    """Everything shown to someone in one country, with where it came from and when."""

    country: str  # ISO 3166 code, or DEFAULT
    name: str
    emergency: Line
    phone: tuple[Line, ...]  # most useful first
    text: tuple[Line, ...]  # text, chat and email: for people who cannot or will not phone
    sources: tuple[str, ...]
    checked: date


def load_lines(path: Path | None = None,
               override: Path | None = None) -> dict[str, CountryLines]:
    """The shipped table (or `path`), with the countries in `override` replacing its own."""
    if path is None:
        text = resources.files("bot.safety").joinpath("lines.yaml").read_text(encoding="utf-8")
        source = SHIPPED
    else:
        text, source = _read(path), str(path)
    table = _parse_table(text, source)
    if DEFAULT not in table:
        raise ConfigError(source, DEFAULT, "missing: the lines for people whose country is "
                                           "not known")
    if override is not None:
        # Whole countries, not single lines: an operator who checked a country's numbers
        # should not find an unchecked shipped line mixed in with them.
        table.update(_parse_table(_read(override), str(override)))
    return table


def lines_for(table: dict[str, CountryLines], country: str | None) -> CountryLines:
    """The lines for `country`, or the default entry when the table has none for it."""
    return table.get(country or "") or table[DEFAULT]


def country_for_zone(zone: str) -> str | None:
    """"Europe/London" -> "GB"; None for zones of no country ("UTC") or unknown ones."""
    return _zone_countries().get(zone.strip())


def country_for_language(code: str | None) -> str | None:
    """Telegram's language_code "en-US" -> "US", "pt-br" -> "BR"; "en" -> None.

    Most clients send only the language, so this is a weak hint: prefer a zone or a location.
    """
    if not code:
        return None
    for part in code.replace("_", "-").split("-")[1:]:
        if len(part) == 1:
            break  # an extension or private-use part ("x-..."): no region follows
        if len(part) == 2 and part.isascii() and part.isalpha():
            region = part.upper()
            # "UK" is not the ISO code, but ISO 3166 reserves it for the United Kingdom
            # and people write en-UK.
            return "GB" if region == "UK" else region
    return None


def country_for_location(latitude: float, longitude: float) -> str | None:
    """The country of a shared location, through its time zone; None at sea."""
    zone = zone_at(latitude, longitude)
    return country_for_zone(zone) if zone else None


@cache
def _zone_countries() -> dict[str, str]:
    # zone.tab gives each zone exactly one country. zone1970.tab cannot: it lists Europe/Berlin
    # for Denmark, Norway and Sweden too. tzdata's links are not followed either: several point
    # across borders (Iceland -> Africa/Abidjan, CET -> Europe/Brussels), and another country's
    # crisis numbers are worse than the default entry.
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    countries: dict[str, str] = {}
    for row in text.splitlines():
        if row.startswith("#") or not row.strip():
            continue
        fields = row.split("\t")
        if len(fields) >= 3:
            countries[fields[2]] = fields[0]
    return countries


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "(file)", "not UTF-8 text") from None


def _parse_table(text: str, file: str) -> dict[str, CountryLines]:
    # bot.yamlfile rejects duplicate keys (safe_load would keep the second GB silently)
    # and reads only true/false as booleans, so Norway's key NO stays "NO".
    parsed, problems = parse(text, file)
    if problems:
        raise ConfigError(file, f"line {problems[0].line}", problems[0].message)
    if parsed is None or parsed.data is None:
        return {}  # an empty file: nothing to add
    if not isinstance(parsed.data, dict):
        raise ConfigError(file, "(top level)", "expected a mapping of country codes to lines")
    return {str(key): _country(parsed, str(key), value) for key, value in parsed.data.items()}


class _Reader:
    """Checks one value at a path of the parsed file; errors say file, key and line."""

    def __init__(self, parsed: Parsed) -> None:
        self.parsed = parsed

    def fail(self, path: tuple[str | int, ...], message: str) -> ConfigError:
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return ConfigError(self.parsed.file, key or "(top level)",
                           f"{message} (line {self.parsed.line(path)})")

    def mapping(self, path: tuple[str | int, ...], value: Any,
                known: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "expected a section of keys")
        for key in value:
            if key not in known and not (known is _LINE_KEYS and _LANGUAGE.match(str(key))):
                tip = did_you_mean(key, known) or f" (known keys: {', '.join(known)})"
                raise self.fail((*path, key), f"unknown key{tip}")
        return value

    def text(self, path: tuple[str | int, ...], value: Any) -> str:
        # Numbers must be quoted: YAML reads an unquoted 024 (Spain's crisis line) as the
        # octal number 20, and converting it back would show the wrong number.
        if not isinstance(value, str) or not value.strip():
            got = "" if value is None else f", got {value!r}"
            hint = ' (put numbers in "quotes")' if isinstance(value, int | float) else ""
            raise self.fail(path, f"expected text{got}{hint}")
        return value.strip()


def _country(parsed: Parsed, country: str, value: Any) -> CountryLines:
    read = _Reader(parsed)
    if country != DEFAULT and not _COUNTRY.match(country):
        raise read.fail((country,), f"expected a two-letter country code (ISO 3166, e.g. GB) "
                                    f"or '{DEFAULT}'")
    fields = read.mapping((country,), value, _COUNTRY_KEYS)
    for required in ("name", "emergency", "checked"):
        if required not in fields:
            raise read.fail((country,), f"missing key '{required}'")
    emergency = _line(read, (country, "emergency"), fields["emergency"], "number")
    return CountryLines(
        country=country,
        name=read.text((country, "name"), fields["name"]),
        emergency=emergency,
        phone=tuple(_line(read, (country, "phone", i), item, "number")
                    for i, item in enumerate(_list(read, country, "phone", fields))),
        text=tuple(_line(read, (country, "text", i), item, "text", "web")
                   for i, item in enumerate(_list(read, country, "text", fields))),
        sources=tuple(read.text((country, "sources", i), item)
                      for i, item in enumerate(_list(read, country, "sources", fields))),
        checked=_date(read, (country, "checked"), fields["checked"]),
    )


def _list(read: _Reader, country: str, key: str, fields: dict[str, Any]) -> list[Any]:
    value = fields.get(key)
    if value is None:
        return []  # absent or left empty: none of that kind
    if not isinstance(value, list):
        raise read.fail((country, key), "expected a list")
    return value


def _line(read: _Reader, path: tuple[str | int, ...], value: Any, *kinds: str) -> Line:
    """A line giving exactly one of `kinds`: a phone line a number, a text line text or web."""
    fields = read.mapping(path, value, _LINE_KEYS)
    if "label" not in fields:
        raise read.fail(path, "missing key 'label'")
    given = [k for k in ("number", "text", "web") if k in fields]
    wrong = [k for k in given if k not in kinds]
    if wrong:
        raise read.fail((*path, wrong[0]), f"not allowed here: use {' or '.join(kinds)}")
    if len(given) != 1:
        raise read.fail(path, f"expected one of: {', '.join(kinds)}")
    how = given[0]
    languages = []
    for code, value in fields.items():
        if code in _LINE_KEYS:
            continue
        if isinstance(value, dict):  # es: {label: ..., number: ...}: the number's words too
            own = read.mapping((*path, code), value, ("label", how))
            if "label" not in own:
                raise read.fail((*path, code), "missing key 'label'")
            languages.append((str(code), read.text((*path, code, "label"), own["label"]),
                              read.text((*path, code, how), own[how]) if how in own else ""))
        else:
            languages.append((str(code), read.text((*path, code), value), ""))
    return Line(label=read.text((*path, "label"), fields["label"]), languages=tuple(languages),
                **{how: read.text((*path, how), fields[how])})


def _date(read: _Reader, path: tuple[str | int, ...], value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise read.fail(path, f"expected a date like 2026-11-30, got {value!r}")
