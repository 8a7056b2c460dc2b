"""Nearest-meeting lookup over many meetings, beside a plain-Python loop doing the same.

    .venv/bin/python bench/meetings.py [--meetings 50000] [--queries 500]

Meetings are scattered over Great Britain and the world (seeded); each query is a random
point in Britain. Prints the median and p95 time per query for the numpy index and for the
baseline (a Python loop over every meeting with math.haversine), and checks both agree.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.meetings.model import Meeting, next_start  # noqa: E402
from bot.meetings.search import EARTH_KM, MeetingIndex  # noqa: E402


def scatter(count: int, rng: random.Random) -> list[Meeting]:
    meetings = []
    for i in range(count):
        if rng.random() < 0.7:  # Great Britain
            lat, lon = rng.uniform(50.0, 58.6), rng.uniform(-6.0, 1.8)
        else:
            lat, lon = rng.uniform(-60, 70), rng.uniform(-180, 180)
        meetings.append(Meeting(f"Meeting {i}", f"m{i}", (rng.randrange(7),), "19:00",
                                "Europe/London", latitude=lat, longitude=lon))
    return meetings


def baseline(meetings: list[Meeting], lat: float, lon: float, count: int) -> list[str]:
    found = []
    for m in meetings:
        assert m.latitude is not None and m.longitude is not None
        p1, p2 = math.radians(lat), math.radians(m.latitude)
        dp, dl = p2 - p1, math.radians(m.longitude - lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        found.append((2 * EARTH_KM * math.asin(math.sqrt(min(a, 1.0))), m.name))
    found.sort()
    return [name for km, name in found[:count] if km <= 50]


def measure(count: int, queries: int) -> tuple[float, list[float], list[float]]:
    """The index's build time in ms, then seconds per query for the index and for the
    baseline (on a sample), having checked that both find the same meetings."""
    rng = random.Random(42)
    meetings = scatter(count, rng)
    started = time.perf_counter()
    index = MeetingIndex(meetings)
    build_ms = (time.perf_counter() - started) * 1000
    points = [(rng.uniform(50.5, 58.0), rng.uniform(-5.0, 1.5)) for _ in range(queries)]
    fast, slow = [], []
    for lat, lon in points:
        t = time.perf_counter()
        got = [m.name for m, _ in index.nearest(lat, lon, 5)]
        fast.append(time.perf_counter() - t)
        if len(slow) < 50:  # the baseline is slow: a sample is enough
            t = time.perf_counter()
            expected = baseline(meetings, lat, lon, 5)
            slow.append(time.perf_counter() - t)
            assert got == expected, (got, expected)
    return build_ms, fast, slow


def measure_online(count: int, queries: int) -> tuple[float, list[float], list[float]]:
    """The online meetings' starts index: its build (done off the engine thread, at start
    and on each feed refresh) in ms, then seconds per "online now" for the index and for
    looking at every online meeting (the code before the index), same answers checked."""
    rng = random.Random(43)
    zones = ["Europe/London", "America/New_York", "America/Los_Angeles", "Australia/Sydney"]
    meetings = [Meeting(f"Online {i}", f"o{i}", (rng.randrange(7),),
                        f"{rng.randrange(24):02d}:{rng.choice(['00', '30'])}", rng.choice(zones),
                        end_time="23:59", conference_url="https://meet.example.org/x")
                for i in range(count)]
    index = MeetingIndex(meetings)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    started = time.perf_counter()
    index.prepare(now)
    build_ms = (time.perf_counter() - started) * 1000
    fast, slow = [], []
    for q in range(queries):
        at = now + timedelta(minutes=37 * q)
        t = time.perf_counter()
        got = [m.name for m, _ in index.next_online(at, 5)]
        fast.append(time.perf_counter() - t)
        if len(slow) < 20:
            t = time.perf_counter()
            upcoming = sorted(((next_start(m, at), i, m.name) for i, m in enumerate(meetings)))
            slow.append(time.perf_counter() - t)
            assert got == [name for _, _, name in upcoming[:5]], (got, upcoming[:5])
    return build_ms, fast, slow


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    build_ms, fast, slow = measure(args.meetings, args.queries)

    def fmt(values: list[float]) -> str:
        values = sorted(values)
        return (f"median {statistics.median(values) * 1000:7.3f} ms   "
                f"p95 {values[int(len(values) * 0.95)] * 1000:7.3f} ms")

    print(f"{args.meetings} meetings (index built in {build_ms:.0f} ms), nearest 5 within 50 km:")
    print(f"  numpy index     {fmt(fast)}   ({len(fast)} queries; target < 5 ms)")
    print(f"  Python loop     {fmt(slow)}   ({len(slow)} queries, same answers)")
    print(f"  speed-up (medians): {statistics.median(slow) / statistics.median(fast):.0f}x")
    online = args.meetings // 5
    build_ms, fast, slow = measure_online(online, args.queries)
    print(f"{online} online meetings (starts indexed in {build_ms:.0f} ms, off the engine "
          "thread), the next 5:")
    print(f"  starts index    {fmt(fast)}   ({len(fast)} queries; target < 5 ms)")
    print(f"  every meeting   {fmt(slow)}   ({len(slow)} queries, same answers)")
    print(f"  speed-up (medians): {statistics.median(slow) / statistics.median(fast):.0f}x")


if __name__ == "__main__":
    main()
