"""Telegram throughput: smart-coach beside plain python-telegram-bot echo bots, run the same
way against the project's Bot API emulator on 127.0.0.1.

    .venv/bin/python bench/throughput.py [--users 300] [--latency 0 0.05] [--only NAME]

Every bot is its own process; the emulator answers each call after --latency seconds (50 ms
is a realistic round trip to Telegram). Each user sends the same ten updates, all at once:
commands (/start, an unknown one, /help), button presses and free text ("I really want a
drink right now"), so smart-coach runs its real dialogs, crisis check and intent model.
Its replies are checked against the same script run in-process through the engine: every
person must get exactly those messages in that order. The echo bots echo each text, and
answer each button press and echo its data (the same two requests smart-coach makes).
Reported: updates/s, latency from an update to its first reply (p50/p95/p99), CPU ms per
update of the bot process, per-chat order. Telegram's ceilings are off for smart-coach
(max_messages_per_second: 0, per_chat_burst: 0), as the echo bots have none: this measures
the bots. The one-at-a-time echo bot gets one update per user (its rate is flat).
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

from bot.dialog.render import to_plain  # noqa: E402
from bot.testing import ChatClient  # noqa: E402
from tests.emulator import BotApiEmulator, Sent  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
COACH = "smart-coach"
ONE_AT_A_TIME = "echo, one at a time"
# What a person does: text (commands too) as typed, or a button pressed by its label.
SCRIPT = ["/start", "B:Let's begin", "drinking", "my kids", "B:7-10",
          "I really want a drink right now", "B:7", "/c1", "hello there", "/help"]


@dataclass(frozen=True)
class Action:
    kind: str  # "text" or "button"
    payload: str  # the text, or the button's data
    replies: list[str]  # what smart-coach answers, as plain text


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


def plan() -> list[Action]:
    """The script run through the engine in-process: the button data to press, and the
    replies smart-coach must send for each update."""
    chat = ChatClient()
    actions = []
    for step in SCRIPT:
        if step.startswith("B:"):
            label = step[2:]
            data = next(b.data for r in reversed(chat.history) for b in r.buttons
                        if b.label == label)
            replies = chat.press_data(data)
            actions.append(Action("button", data, [_norm(to_plain(r.text)) for r in replies]))
        else:
            replies = chat.send(step)
            actions.append(Action("text", step, [_norm(to_plain(r.text)) for r in replies]))
    return actions


def _norm(text: str) -> str:
    return " ".join(text.split())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def start(name: str, emulator: BotApiEmulator, tmp: Path) -> asyncio.subprocess.Process:
    if name == COACH:
        config = tmp / f"config-{time.monotonic_ns()}.yaml"
        config.write_text(f"telegram:\n  api_base_url: {emulator.base_url}\n"
                          f"  max_messages_per_second: 0\n  per_chat_burst: 0\n"
                          f"storage:\n  path: {tmp / f'{config.stem}.db'}\n"
                          f"dialogs:\n  path: {ROOT / 'dialogs'}\n"
                          f"logging:\n  level: WARNING\n")
        command = ["-m", "bot", "run", "--config", str(config)]
    else:
        command = [str(ROOT / "bench" / "echo_bot.py"), emulator.base_url, emulator.token]
        if name != ONE_AT_A_TIME:
            pool = name.rsplit(" ", 1)[1]
            command += ["--concurrent", "64", "--pool", pool]
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": emulator.token}
    return await asyncio.create_subprocess_exec(sys.executable, *command, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.DEVNULL)


def push(emulator: BotApiEmulator, user: int, action: Action) -> int:
    if action.kind == "button":
        return emulator.user_presses_data(user, action.payload)
    return emulator.user_sends(user, action.payload)


def expected(name: str, actions: list[Action]) -> list[list[str]]:
    """Per update, the replies the bot must send."""
    if name == COACH:
        return [a.replies for a in actions]
    return [[a.payload] for a in actions]


async def run_one(name: str, latency: float, users: int, actions: list[Action],
                  tmp: Path) -> Result:
    emulator = BotApiEmulator(latency=latency)
    await emulator.start()
    proc = await start(name, emulator, tmp)
    try:
        while not any(m == "getUpdates" for m, _ in emulator.calls):  # the bot is polling
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        cpu_before = cpu_seconds(proc.pid)
        emu_before = time.process_time()
        pushed: dict[int, list[int]] = {}
        started = time.monotonic()
        for action in actions:
            for user in range(1, users + 1):
                pushed.setdefault(user, []).append(push(emulator, user, action))
        want = expected(name, actions)
        total = users * sum(len(replies) for replies in want)
        deadline = started + 600
        while len(emulator.sent) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: only {len(emulator.sent)} of {total} replies")
            await asyncio.sleep(0.01)
        elapsed = max(s.at for s in emulator.sent) - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        emulator_cpu = time.process_time() - emu_before
        latencies, in_order = measure(emulator, pushed, want)
        updates = users * len(actions)
        q = statistics.quantiles(latencies, n=100)
        return Result(name, latency, updates, updates / elapsed, q[49] * 1000, q[94] * 1000,
                      q[98] * 1000, cpu / updates * 1000, emulator_cpu / updates * 1000,
                      in_order)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        await emulator.stop()


def measure(emulator: BotApiEmulator, pushed: dict[int, list[int]],
            want: list[list[str]]) -> tuple[list[float], bool]:
    """Latency from each update to its first reply; whether every person got exactly the
    replies due, in order."""
    latencies: list[float] = []
    in_order = True
    for user, update_ids in pushed.items():
        got: list[Sent] = emulator.messages_to(user)
        in_order &= [_norm(s.plain) for s in got] == [r for rs in want for r in rs]
        first = 0
        for update_id, replies in zip(update_ids, want, strict=True):
            if first < len(got):
                latencies.append(got[first].at - emulator.pushed_at[update_id])
            first += len(replies)
    return latencies, in_order


def verdicts(results: list[Result], latencies: list[float]) -> list[str]:
    lines = []
    for latency in latencies:
        row = [r for r in results if r.latency == latency]
        coach = next((r for r in row if r.name == COACH), None)
        echoes = [r for r in row if r.name.startswith("echo, concurrent")]
        if coach is None or not echoes:
            continue
        best = max(echoes, key=lambda r: r.per_second)
        lean = min((r for r in row if r.name != COACH), key=lambda r: r.cpu_ms)
        ms = f"{latency * 1000:.0f} ms"
        lines.append(f"at {ms}: smart-coach {coach.per_second / best.per_second:.2f}x the "
                     f"updates/s of the best concurrent echo ({best.name}); CPU per update "
                     f"{coach.cpu_ms / lean.cpu_ms:.2f}x the leanest ({lean.name}); order "
                     f"{'kept' if coach.in_order else 'BROKEN'}")
        if latency == 0.05:
            ok = coach.per_second >= best.per_second and \
                coach.cpu_ms <= 1.5 * lean.cpu_ms and coach.in_order
            lines.append(f"  targets at 50 ms (>= 1x updates/s, <= 1.5x CPU, order kept): "
                         f"{'PASS' if ok else 'FAIL'}")
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.05])
    parser.add_argument("--only", help="run only this bot (e.g. smart-coach, for profiling)")
    args = parser.parse_args()
    actions = plan()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for latency in args.latency:
            bots = [(ONE_AT_A_TIME, actions[:1]), ("echo, concurrent 64, pool 64", actions),
                    ("echo, concurrent 64, pool 16", actions), (COACH, actions)]
            for name, script in bots:
                if args.only and name != args.only:
                    continue
                results.append(await run_one(name, latency, args.users, script, Path(tmp)))
                print(f"  done: {name} at {latency * 1000:.0f} ms", file=sys.stderr)
    print(f"{args.users} users x {len(actions)} updates (commands, buttons, free text); "
          f"machine: {os.cpu_count()} cores")
    print(f"{'bot':<29} {'rtt':>5} {'updates':>8} {'upd/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'cpu ms/upd':>10} {'emulator':>9}  order")
    for r in results:
        print(f"{r.name:<29} {r.latency * 1000:>3.0f}ms {r.updates:>8} {r.per_second:>7.0f} "
              f"{r.p50:>8.1f} {r.p95:>8.1f} {r.p99:>8.1f} {r.cpu_ms:>10.2f} "
              f"{r.emulator_cpu_ms:>9.2f}  {'kept' if r.in_order else 'BROKEN'}")
    for line in verdicts(results, args.latency):
        print(line)


if __name__ == "__main__":
    asyncio.run(main())
