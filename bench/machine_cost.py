"""What running one event on a dialog's transitions machine costs: the long-lived cursor
model moved with set_state (bot/dialog/machine.py) beside the way it was done before,
adding the person's Turn to the machine and removing it again on every event
(transitions binds every trigger and an is_<state> helper to a model it is given).

    .venv/bin/python bench/machine_cost.py [--events 5000]

Both run side by side on the same machine (the urge dialog: its biggest), on the same
transitions, in this process; medians, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FakeClock  # noqa: E402
from bot.dialog.engine import Engine  # noqa: E402
from bot.dialog.loader import load_catalog  # noqa: E402
from bot.dialog.machine import NEXT  # noqa: E402
from bot.dialog.turn import Turn  # noqa: E402
from bot.storage.sqlite import SqliteStore  # noqa: E402
from bot.tools import default_registry  # noqa: E402

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"


class Detached:
    """A stand-in for the Turn the old way added and removed on every event."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    registry = default_registry()
    catalog = load_catalog(DIALOGS, registry)
    engine = Engine(catalog, registry, SqliteStore(":memory:"), FakeClock())
    dialog = catalog.dialogs["urge"]
    machine = engine.machines["urge"]
    # A state whose NEXT branch always applies and leads to a state that waits.
    state = next(s.name for s in dialog.states.values()
                 if s.expect == "text" and NEXT in machine.triggers_from(s.name))
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    cursor, attach = [], []
    for _ in range(args.events):
        turn = Turn(1, dialog, {}, now)
        started = time.perf_counter()
        machine.run(turn, state, NEXT)
        cursor.append(time.perf_counter() - started)
        turn = Turn(1, dialog, {}, now)
        model = Detached()
        started = time.perf_counter()
        machine.machine.add_model(model, initial=state)  # what the old run() paid
        machine.machine.remove_model(model)
        machine.run(turn, state, NEXT)
        attach.append(time.perf_counter() - started)
    fast, slow = statistics.median(cursor), statistics.median(attach)
    print(f"one event on the urge machine ({len(dialog.states)} states), "
          f"{args.events} events each, from '{state}':")
    print(f"  cursor model + set_state     median {fast * 1e6:7.1f} µs")
    print(f"  add_model/remove_model Turn  median {slow * 1e6:7.1f} µs   (before)")
    print(f"  before / now (medians): {slow / fast:.1f}x")


if __name__ == "__main__":
    main()
