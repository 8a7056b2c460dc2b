"""What the crisis dialog shows: the numbers and text lines that fit the person's country;
and finding the country a person names ("numbers for another country").

The person's country comes from what they told the bot, most reliable first: a country
they chose in the crisis dialog, a location they shared, their time zone, their app's
language region. The operator's own list (config `crisis`) is for their country and for
anyone whose country is not known; the shipped table (bot/safety/lines.yaml) for the rest.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rapidfuzz import fuzz, process

from bot.config import CrisisConfig
from bot.dialog.registry import FactContext, Registry, check_in_save
from bot.dialog.turn import Turn
from bot.nlu.normalize import normalize
from bot.safety.lines import (
    DEFAULT,
    CountryLines,
    Line,
    country_for_language,
    country_for_location,
    country_for_zone,
)

CHOSEN = "crisis.country"  # the country the person chose ("numbers for another country")
SHARED = "place.shared"  # the last location the person shared (saved by the engine)
FIND_A_HELPLINE = Line("Find a helpline in your country", web="findahelpline.com")


def country_of(ctx: FactContext) -> str | None:
    """The person's country, from what they told the bot (see the module's docstring)."""
    chosen = ctx.answers.get(CHOSEN)
    if chosen:
        return str(chosen)
    shared = ctx.answers.get(SHARED)
    if isinstance(shared, dict) and "latitude" in shared:
        found = country_for_location(float(shared["latitude"]), float(shared["longitude"]))
        if found:
            return found
    return (country_for_zone(ctx.timezone) if ctx.timezone else None) or \
        country_for_language(ctx.language)


def register(reg: Registry, crisis: CrisisConfig, table: dict[str, CountryLines]) -> None:
    own_calls = tuple(Line(n.label, number=n.number) for n in crisis.numbers)
    own_text = tuple(Line(t.label, text=t.text, web=t.web) for t in crisis.text)

    def lines(ctx: FactContext) -> tuple[str, tuple[Line, ...], tuple[Line, ...]]:
        """(country name, lines to call, lines without a call) for this person."""
        country = country_of(ctx)
        found = table.get(country or "")
        if country is None or country == crisis.country or found is None:
            name = table[crisis.country].name if crisis.country in table else crisis.country
            return name, own_calls, own_text
        return found.name, (found.emergency, *found.phone), found.text

    def bullets(items: tuple[Line, ...]) -> str:
        return "\n".join(f"• {line.shown}" for line in items)

    reg.facts["crisis_numbers"] = lambda ctx: bullets(lines(ctx)[1])
    reg.facts["crisis_text"] = lambda ctx: bullets(lines(ctx)[2] + (FIND_A_HELPLINE,))
    reg.facts["crisis_country"] = lambda ctx: lines(ctx)[0]

    @reg.action("set_country", check=check_in_save, saves=lambda a: [a["save"]])
    def set_country(turn: Turn, args: dict[str, str]) -> None:
        """A country of the crisis-lines table from a typed name or code ("Ireland", "ie"):
        set_country: {in: answer, save: answer}. Not found: the key is cleared."""
        found = find_country(str(turn.answers.get(args["in"], "") or ""), table)
        if found:
            turn.answers[args["save"]] = found
        else:
            turn.answers.pop(args["save"], None)


ALIASES = {"uk": "GB", "the uk": "GB", "britain": "GB", "great britain": "GB", "england": "GB",
           "scotland": "GB", "wales": "GB", "northern ireland": "GB", "usa": "US",
           "the us": "US", "america": "US", "united states of america": "US", "espana": "ES",
           "deutschland": "DE", "holland": "NL", "the netherlands": "NL"}


def find_country(typed: str, table: dict[str, CountryLines]) -> str | None:
    """The table's country for a typed name or code ("Ireland", "ie", "the US", "Irland")."""
    said = _plain(typed)
    names = {code: _plain(entry.name) for code, entry in table.items() if code != DEFAULT}
    if said in ALIASES:
        return ALIASES[said]
    if said.upper() in names:
        return said.upper()
    best: Any = process.extractOne(said, names, scorer=fuzz.WRatio, score_cutoff=85) \
        if said else None
    return str(best[2]) if best else None


def _plain(text: str) -> str:
    """Without accents: people type "Mexico" for México and "espana" for España."""
    decomposed = unicodedata.normalize("NFKD", normalize(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
