"""The Bot API emulator in a process of its own, as Telegram is: for benchmarks.

    python bench/emulator_process.py [--per-second 30]

Prints {"port": ..., "token": ...} once listening; on SIGTERM prints a summary of what was
sent ({"sent", "rate_limited", "first", "last", "per_chat"}) and exits. Its garbage collector
is off: the instrument must not pause, or requests would queue during its pauses and be
counted as arriving together, over the limit, when the bot sent them evenly.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.emulator import BotApiEmulator  # noqa: E402


async def serve(per_second: float | None) -> None:
    gc.disable()
    emulator = BotApiEmulator(per_second=per_second)
    await emulator.start()
    print(json.dumps({"port": emulator.port, "token": emulator.token}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    times = [s.at for s in emulator.sent]
    print(json.dumps({"sent": len(emulator.sent), "rate_limited": emulator.rate_limited,
                      "first": min(times, default=0.0), "last": max(times, default=0.0),
                      "per_chat": collections.Counter(s.chat_id for s in emulator.sent)}),
          flush=True)
    await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-second", type=float, default=None)
    asyncio.run(serve(parser.parse_args().per_second))


if __name__ == "__main__":
    main()
