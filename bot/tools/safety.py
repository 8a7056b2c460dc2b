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

from bot import formats
from bot.config import CrisisConfig
from bot.dialog.registry import FactContext, Registry, check_in_save
from bot.dialog.spec import SOURCE_LANGUAGE
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
FIND_A_HELPLINE = "findahelpline.com"  # its label is the text crisis_find_a_helpline
TEXTS: dict[str, tuple[str, ...]] = {
    "crisis_find_a_helpline": (), "crisis_emergency": (), "crisis_country_unknown": ()}


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
    reg.needs_texts(**TEXTS)
    # The operator's own lines, in the words of their config.
    own_calls = tuple(Line(n.label, number=n.number) for n in crisis.numbers)
    own_text = tuple(Line(t.label, text=t.text, web=t.web) for t in crisis.text)

    def country_name(ctx: FactContext, code: str) -> str:
        """The country's name in the person's language (CLDR), else the table's."""
        if code == DEFAULT:
            return ctx.text("crisis_country_unknown")
        entry = table.get(code)
        return formats.country_name(code, ctx.locale) or (entry.name if entry else code)

    def lines(ctx: FactContext) -> tuple[str, tuple[Line, ...], tuple[Line, ...], Line | None]:
        """(country name, lines to call, lines without a call, its emergency line) for
        this person."""
        country = country_of(ctx)
        found = table.get(country or "")
        if country is None or country == crisis.country or found is None:
            return country_name(ctx, crisis.country), own_calls, own_text, None
        return (country_name(ctx, country), (found.emergency, *found.phone), found.text,
                found.emergency)

    def shown(ctx: FactContext, line: Line, emergency: Line | None) -> str:
        """A line in the person's language: the table's words for it in that language, or
        for an emergency line without them, "Emergency services" in it."""
        own = line.in_language(ctx.locale)
        if own:
            return line.shown_as(*own)
        if line is emergency and ctx.locale != SOURCE_LANGUAGE:
            return line.shown_as(ctx.text("crisis_emergency"))
        return line.shown

    def bullets(ctx: FactContext, items: tuple[Line, ...], emergency: Line | None) -> str:
        return "\n".join(f"• {shown(ctx, line, emergency)}" for line in items)

    def crisis_text(ctx: FactContext) -> str:
        _, _, texts, emergency = lines(ctx)
        find = Line(ctx.text("crisis_find_a_helpline"), web=FIND_A_HELPLINE)
        return bullets(ctx, (*texts, find), emergency)

    def crisis_numbers(ctx: FactContext) -> str:
        _, calls, _, emergency = lines(ctx)
        return bullets(ctx, calls, emergency)

    reg.facts["crisis_numbers"] = crisis_numbers
    reg.facts["crisis_text"] = crisis_text
    reg.facts["crisis_country"] = lambda ctx: lines(ctx)[0]

    @reg.action("set_country", check=check_in_save, saves=lambda a: [a["save"]])
    def set_country(turn: Turn, args: dict[str, str]) -> None:
        """A country of the crisis-lines table from a typed name or code ("Ireland", "ie"):
        set_country: {in: answer, save: answer}. Not found: the key is cleared."""
        found = find_country(str(turn.answers.get(args["in"], "") or ""), table,
                             turn.locale)
        if found:
            turn.answers[args["save"]] = found
        else:
            turn.answers.pop(args["save"], None)


ALIASES = {"uk": "GB", "the uk": "GB", "britain": "GB", "great britain": "GB", "england": "GB",
           "scotland": "GB", "wales": "GB", "northern ireland": "GB", "usa": "US",
           "the us": "US", "america": "US", "united states of america": "US", "espana": "ES",
           "deutschland": "DE", "holland": "NL", "the netherlands": "NL"}


def find_country(typed: str, table: dict[str, CountryLines],
                 language: str = SOURCE_LANGUAGE) -> str | None:
    """The table's country for a typed name or code ("Ireland", "ie", "the US", "Irland"),
    in English or in the person's language ("Alemania", "Reino Unido")."""
    said = _plain(typed)
    codes = [code for code in table if code != DEFAULT]
    if said in ALIASES:
        return ALIASES[said]
    if said.upper() in codes:
        return said.upper()
    names = {(code, i): _plain(name) for code in codes for i, name in enumerate(
        (table[code].name, formats.country_name(code, language) or "")) if name}
    exact = next((code for (code, _), name in names.items() if name == said), None)
    if exact or not said:
        return exact
    best: Any = process.extractOne(said, names, scorer=fuzz.WRatio, score_cutoff=85)
    return str(best[2][0]) if best else None


def _plain(text: str) -> str:
    """Without accents: people type "Mexico" for México and "espana" for España."""
    decomposed = unicodedata.normalize("NFKD", normalize(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
