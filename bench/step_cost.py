"""What one engine step costs, on SQLite in a file (the default store) beside SQLite in
memory (the tests' store).

    .venv/bin/python bench/step_cost.py [--users 2000] [--rounds 5]

Each round plays the onboarding dialog (/start, a button, two texts, a number: 5 steps)
for every user, then times single steps for users in the middle of a dialog. Reports
medians (shared machines are noisy) and the ratio SQLite / memory: the part that is
storage. The event loop never waits for this: steps run on the engine thread.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bot.clock import FakeClock
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.events import Incoming
from bot.storage.sqlite import SqliteStore
from bot.tools import default_registry

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"
SCRIPT = ["/start", None, "drinking", "my kids", "8"]  # None: press "Let's begin"


def play(engine: Engine, users: int) -> list[float]:
    timings: list[float] = []
    for user in range(1, users + 1):
        for typed in SCRIPT:
            event = (Incoming.button(user, "start|welcome|2") if typed is None
                     else Incoming.message(user, typed))
            start = time.perf_counter()
            engine.handle(event)
            timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registry = default_registry()
    catalog = load_catalog(DIALOGS, registry)
    results: dict[str, list[float]] = {"memory": [], "sqlite": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for name in ("memory", "sqlite"):  # side by side in every round
                store = SqliteStore(":memory:" if name == "memory" else
                                    Path(tmp) / f"bench-{round_}.db")
                engine = Engine(catalog, registry, store, FakeClock())
                results[name].extend(play(engine, args.users))
                store.close()
    print(f"engine step, {args.users} users x {len(SCRIPT)} steps x {args.rounds} rounds")
    print(f"{'store':<8} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'steps/s':>9}")
    medians = {}
    for name, values in results.items():
        values.sort()
        medians[name] = statistics.median(values)
        p95, p99 = values[int(len(values) * 0.95)], values[int(len(values) * 0.99)]
        print(f"{name:<8} {medians[name] * 1000:>10.3f} {p95 * 1000:>8.3f} {p99 * 1000:>8.3f} "
              f"{1 / medians[name]:>9.0f}")
    print(f"sqlite / memory (medians): {medians['sqlite'] / medians['memory']:.2f}x")


if __name__ == "__main__":
    main()
