"""Telegram throughput: smart-coach beside plain python-telegram-bot echo bots, run the same
way against the project's Bot API emulator on 127.0.0.1.

    .venv/bin/python bench/throughput.py [--users 300] [--per-user 10] [--latency 0 0.05]

Every bot is its own process; the emulator answers each call after --latency seconds (50 ms
is a realistic round trip to Telegram). Each user sends --per-user messages, all at once.
smart-coach gets unknown commands (/c1 ...), which it answers with one message naming the
command, so per-chat order can be checked; the echo bots echo. Reported: updates/s, latency
from update to its reply (p50/p95/p99), CPU ms per update of the bot process, order.
smart-coach runs with its overall 30 msg/s limiter off (telegram.max_messages_per_second: 0):
this measures the bot, not Telegram's ceiling. The one-at-a-time echo bot gets fewer
updates (its rate is flat and it would take minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator import BotApiEmulator  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    latency: float
    updates: int
    per_second: float
    p50: float
    p95: float
    p99: float
    cpu_ms: float
    emulator_cpu_ms: float  # to show the emulator is not what limits the bots
    in_order: bool


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def start(name: str, emulator: BotApiEmulator, tmp: Path) -> asyncio.subprocess.Process:
    if name == "smart-coach":
        config = tmp / f"config-{time.monotonic_ns()}.yaml"
        config.write_text(f"telegram:\n  api_base_url: {emulator.base_url}\n"
                          f"  max_messages_per_second: 0\n"
                          f"storage:\n  path: {tmp / f'{config.stem}.db'}\n"
                          f"dialogs:\n  path: {ROOT / 'dialogs'}\n"
                          f"logging:\n  level: WARNING\n")
        command = ["-m", "bot", "run", "--config", str(config)]
    else:
        command = [str(ROOT / "bench" / "echo_bot.py"), emulator.base_url, emulator.token]
        if name.startswith("echo, concurrent"):
            command += ["--concurrent", "64"]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token}
    return await asyncio.create_subprocess_exec(sys.executable, *command, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL)


async def run_one(name: str, latency: float, users: int, per_user: int, tmp: Path) -> Result:
    emulator = BotApiEmulator(latency=latency)
    await emulator.start()
    proc = await start(name, emulator, tmp)
    try:
        while not any(m == "getUpdates" for m, _ in emulator.calls):  # the bot is polling
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        cpu_before = cpu_seconds(proc.pid)
        emu_before = time.process_time()
        sent: dict[int, list[int]] = {}
        started = time.monotonic()
        for i in range(per_user):
            for user in range(1, users + 1):
                text = f"/c{i}" if name == "smart-coach" else f"c{i}"
                sent.setdefault(user, []).append(emulator.user_sends(user, text))
        total = users * per_user
        deadline = started + 600
        while len(emulator.sent) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: only {len(emulator.sent)} of {total} replies")
            await asyncio.sleep(0.01)
        elapsed = max(s.at for s in emulator.sent) - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        emulator_cpu = time.process_time() - emu_before
        latencies: list[float] = []
        in_order = True
        for user, update_ids in sent.items():
            replies = emulator.messages_to(user)
            for i, (update_id, reply) in enumerate(zip(update_ids, replies, strict=True)):
                latencies.append(reply.at - emulator.pushed_at[update_id])
                in_order &= f"c{i}" in reply.plain.split()[-1] if name != "smart-coach" \
                    else f"/c{i}." in reply.plain
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        return Result(name, latency, total, total / elapsed, q[49] * 1000, q[94] * 1000,
                      q[98] * 1000, cpu / total * 1000, emulator_cpu / total * 1000, in_order)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await emulator.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.05])
    parser.add_argument("--only", help="run only this bot (e.g. smart-coach, for profiling)")
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for latency in args.latency:
            # The one-at-a-time baseline gets 1 message per user: its rate is flat.
            plan = [("echo, one at a time", 1), ("echo, concurrent 64", args.per_user),
                    ("smart-coach", args.per_user)]
            for name, per_user in plan:
                if args.only and name != args.only:
                    continue
                result = await run_one(name, latency, args.users, per_user, Path(tmp))
                results.append(result)
                print(f"  done: {name} at {latency * 1000:.0f} ms", file=sys.stderr)
    print(f"{args.users} users; emulator round trip as shown; machine: {os.cpu_count()} cores")
    print(f"{'bot':<22} {'rtt':>5} {'updates':>8} {'upd/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'cpu ms/upd':>10} {'emulator':>9}  order")
    for r in results:
        print(f"{r.name:<22} {r.latency * 1000:>4.0f}ms {r.updates:>8} {r.per_second:>8.0f} "
              f"{r.p50:>8.1f} {r.p95:>8.1f} {r.p99:>8.1f} {r.cpu_ms:>10.2f} "
              f"{r.emulator_cpu_ms:>9.2f}  "
              f"{'kept' if r.in_order else 'BROKEN'}")
    for latency in [] if args.only else args.latency:
        row = {r.name: r for r in results if r.latency == latency}
        coach, echo = row["smart-coach"], row["echo, concurrent 64"]
        print(f"at {latency * 1000:.0f} ms: smart-coach / concurrent echo: "
              f"{coach.per_second / echo.per_second:.2f}x updates/s, "
              f"{coach.cpu_ms / echo.cpu_ms:.2f}x CPU per update")


if __name__ == "__main__":
    asyncio.run(main())
