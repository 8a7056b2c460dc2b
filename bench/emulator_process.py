"""The Bot API emulator in a process of its own, as Telegram is: for benchmarks.

    python bench/emulator_process.py [--per-second 30]

Prints {"port": ..., "token": ...} once listening; on SIGTERM prints a summary of what was
sent ({"sent", "rate_limited", "first", "last", "per_chat"}, and with --log every message
sent and every update pushed, with this process's times) and exits. With --control, a
benchmark makes people write through it: POST /control/send {"user", "text"} returns the
update id (bench/peak.py). Its garbage collector
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

from aiohttp import web  # noqa: E402

from tests.emulator import BotApiEmulator  # noqa: E402


async def serve(per_second: float | None, log: bool = False) -> None:
    gc.disable()
    emulator = BotApiEmulator(per_second=per_second)
    await emulator.start()
    if emulator._runner is not None:  # the control route, beside the Bot API's
        control = web.Application()

        async def send(request: web.Request) -> web.Response:
            body = await request.json()
            return web.json_response(emulator.user_sends(int(body["user"]), body["text"]))

        control.router.add_post("/control/send", send)
        runner = web.AppRunner(control, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        control_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    else:
        control_port = 0
    print(json.dumps({"port": emulator.port, "token": emulator.token,
                      "control": control_port}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    times = [s.at for s in emulator.sent]
    summary = {"sent": len(emulator.sent), "rate_limited": emulator.rate_limited,
               "first": min(times, default=0.0), "last": max(times, default=0.0),
               "per_chat": collections.Counter(s.chat_id for s in emulator.sent)}
    if log:
        summary["messages"] = [[s.chat_id, s.at, s.plain[:60]] for s in emulator.sent]
        summary["pushed"] = emulator.pushed_at
    print(json.dumps(summary), flush=True)
    await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-second", type=float, default=None)
    parser.add_argument("--log", action="store_true", help="every message and update")
    args = parser.parse_args()
    asyncio.run(serve(args.per_second, args.log))


if __name__ == "__main__":
    main()
