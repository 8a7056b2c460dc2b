"""Finding meetings: the nearest in-person ones (great-circle distance, vectorised with
numpy over every meeting: 50,000 in well under 5 ms), and the next online ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import numpy as np

from bot.meetings.model import Meeting, next_start

EARTH_KM = 6371.0088
# A UK postcode, or just its district ("LS9 8HQ", "LS9", "W1J", "SW1A 1AA").
POSTCODE = re.compile(r"^\s*([A-Z]{1,2}\d[A-Z\d]?)(?:\s*\d[A-Z]{2})?\s*$", re.IGNORECASE)
_IN_ADDRESS = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s+\d[A-Z]{2}\b")


class MeetingIndex:
    def __init__(self, meetings: list[Meeting]):
        self.meetings = meetings
        self._in_person = [m for m in meetings if m.in_person]
        self._online = [m for m in meetings if m.online]
        self._lat = np.radians(np.array([m.latitude or 0.0 for m in self._in_person],
                                        dtype=np.float64))
        self._lon = np.radians(np.array([m.longitude or 0.0 for m in self._in_person],
                                        dtype=np.float64))
        self._cos_lat = np.cos(self._lat)
        self._districts = _centres(self._in_person, lambda d: d)
        self._areas = _centres(self._in_person, lambda d: re.sub(r"\d.*", "", d))

    def postcode(self, text: str) -> tuple[float, float, str] | None:
        """Where a UK postcode or postcode district is, from the meeting list itself: the
        centre of its meetings in that district, else in that postcode area ("LS" for
        "LS12"). No gazetteer of postcodes ships on PyPI; the list's own addresses do."""
        match = POSTCODE.match(text)
        if not match:
            return None
        district = match.group(1).upper()
        area = re.sub(r"\d.*", "", district)
        for key, table in ((district, self._districts), (area, self._areas)):
            if key in table:
                lat, lon = table[key]
                return lat, lon, district
        return None

    def nearest(self, latitude: float, longitude: float, count: int = 5,
                within_km: float = 50.0) -> list[tuple[Meeting, float]]:
        """Up to `count` in-person meetings within `within_km`, nearest first, with km."""
        if not self._in_person:
            return []
        lat, lon = np.radians(latitude), np.radians(longitude)
        # Haversine, for every meeting at once.
        a = np.sin((self._lat - lat) / 2) ** 2 + \
            np.cos(lat) * self._cos_lat * np.sin((self._lon - lon) / 2) ** 2
        km = 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        count = min(count, len(km))
        closest = np.argpartition(km, count - 1)[:count]
        ordered = closest[np.argsort(km[closest])]
        return [(self._in_person[i], float(km[i])) for i in ordered if km[i] <= within_km]

    def next_online(self, now: datetime, count: int = 5) -> list[tuple[Meeting, datetime]]:
        """The online meetings starting soonest from `now`."""
        upcoming = [(m, next_start(m, now)) for m in self._online]
        upcoming.sort(key=lambda pair: pair[1])
        return upcoming[:count]


def _centres(meetings: list[Meeting], key: Callable[[str], str]) -> dict[str, tuple[float, float]]:
    """The mean position of the meetings in each postcode district (or area)."""
    points: dict[str, list[tuple[float, float]]] = {}
    for meeting in meetings:
        match = _IN_ADDRESS.search(meeting.address.upper())
        if match and meeting.latitude is not None and meeting.longitude is not None:
            points.setdefault(key(match.group(1)), []).append((meeting.latitude,
                                                               meeting.longitude))
    return {k: (sum(p[0] for p in v) / len(v), sum(p[1] for p in v) / len(v))
            for k, v in points.items()}
