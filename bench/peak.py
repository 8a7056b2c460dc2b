"""Peak hour: replies to people writing while the day's check-ins fan out, beside the same
replies when it is quiet, in one run.

    .venv/bin/python bench/peak.py [--nudges 10000] [--people 50] [--every 2] [--phase 20]

The bot runs here through the real Telegram client; the project's Bot API emulator runs in a
process of its own (as Telegram does), enforcing Telegram's 30 messages a second (a 429 for
anything over), and times everything on its side: when each message was written, when each
reply arrived. Three phases, one after the other:
1. quiet: --people people write "/help" every --every seconds (staggered), for --phase s;
2. fan-out: --nudges daily check-ins fall due at once, the same people keep writing, and a
   person in crisis ("i want to kill myself", a new person each time) writes every 2 s;
3. lookups: the fan-out goes on, and 3 more people type "/reminder 20:30 Leeds" every second
   (a city's time zone: the heaviest common step).
Reported per phase: the first reply after each message (p50, p95, p99), the crisis numbers'
wait, nudges sent a second; at the end, every nudge delivered once and the 429s. Targets
(issue 13): fan-out and lookups p99 at most twice the quiet p99 (or 1 s), crisis numbers
within 1 s, every nudge delivered, no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nudges import CEILING, Remote, app_for, fill  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel  # noqa: E402

NUDGE = "Time for your daily check-in"
PEOPLE, CRISIS, LOOKUPS = 1_000_000, 2_000_000, 3_000_000  # user ids of each kind


@dataclass(frozen=True)
class Written:
    update_id: int
    user: int
    phase: str
    kind: str  # help, crisis, lookup


class People:
    """Makes people write through the emulator's control route; remembers what they wrote."""

    def __init__(self, control: int):
        self.url = f"http://127.0.0.1:{control}/control/send"
        self.written: list[Written] = []
        self.phase = "quiet"
        self.session: aiohttp.ClientSession | None = None

    async def send(self, user: int, text: str, kind: str) -> None:
        assert self.session is not None
        async with self.session.post(self.url, json={"user": user, "text": text}) as response:
            self.written.append(Written(int(await response.json()), user, self.phase, kind))

    async def writing(self, user: int, text: str, kind: str, every: float, offset: float,
                      stop: asyncio.Event) -> None:
        await asyncio.sleep(offset)
        while not stop.is_set():
            await self.send(user, text, kind)
            await asyncio.sleep(every)

    async def in_crisis(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await self.send(CRISIS + n, "i want to kill myself", "crisis")
            await asyncio.sleep(2.0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def waits(written: list[Written], summary: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    """Seconds from each message written to the first reply to its writer after it."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for chat, at, _ in summary["messages"]:
        by_chat[chat].append(at)
    for times in by_chat.values():
        times.sort()
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for w in written:
        pushed = summary["pushed"][str(w.update_id)]
        reply = next((at for at in by_chat.get(w.user, []) if at >= pushed), None)
        found[(w.phase, w.kind)].append(math.inf if reply is None else reply - pushed)
    return found


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    db = tmp / "peak.db"
    fill(db, args.nudges, datetime.now(UTC) + timedelta(hours=6))  # due later: made due below
    server = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "emulator_process.py"), "--per-second",
        str(CEILING), "--log", stdout=asyncio.subprocess.PIPE)
    assert server.stdout is not None
    started = json.loads(await server.stdout.readline())
    emulator = Remote(started["port"], started["token"])
    app, tg = app_for(db, emulator)  # type: ignore[arg-type]
    channel = TelegramChannel(app, tg, poll_timeout=1)  # type: ignore[arg-type]
    people = People(started["control"])
    phases: dict[str, tuple[float, float]] = {}
    async with aiohttp.ClientSession() as session, channel.running():
        people.session = session
        stop_polling = asyncio.Event()
        polling = asyncio.create_task(channel.poll(stop_polling))
        stop_writing = asyncio.Event()
        writers = [asyncio.create_task(people.writing(
            PEOPLE + p, "/help", "help", args.every, p * args.every / args.people,
            stop_writing)) for p in range(args.people)]
        await asyncio.sleep(2)  # everyone has written once before the quiet phase counts
        people.written.clear()
        for phase in ("quiet", "fan-out", "lookups"):
            people.phase = phase
            begun = time.monotonic()
            if phase == "fan-out":
                past = datetime.now(UTC) - timedelta(minutes=1)
                local = past.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")
                await app.dispatcher.run(  # type: ignore[attr-defined]
                    app.store.db.execute,  # type: ignore[attr-defined]
                    "update reminders set next_due = ?, local_time = ?",
                    [past.isoformat(timespec="seconds"), local])
                writers.append(asyncio.create_task(people.in_crisis(stop_writing)))
                await app.nudges.tick()  # type: ignore[attr-defined]
            if phase == "lookups":
                writers += [asyncio.create_task(people.writing(
                    LOOKUPS + i, "/reminder 20:30 Leeds", "lookup", 1.0, i / 3,
                    stop_writing)) for i in range(3)]
            await asyncio.sleep(args.phase)
            phases[phase] = (begun, time.monotonic())
        stop_writing.set()
        await asyncio.gather(*writers)
        sent_during = app.nudges.sent  # type: ignore[attr-defined]
        drained = time.monotonic()
        await app.nudges.drain()  # type: ignore[attr-defined]
        drain_seconds = time.monotonic() - drained
        await asyncio.sleep(2)  # the last replies
        stop_polling.set()
        await polling
    server.send_signal(signal.SIGTERM)
    summary = json.loads(await server.stdout.read())
    await server.wait()
    nudged = [int(chat) for chat, _, text in summary["messages"] if text.startswith(NUDGE)]
    return {"waits": waits(people.written, summary), "phases": phases,
            "nudges_sent_while_writing": sent_during, "drain_seconds": drain_seconds,
            "nudged": len(set(nudged)), "nudge_repeats": len(nudged) - len(set(nudged)),
            "rate_limited": summary["rate_limited"], "messages": summary["messages"]}


def nudge_rate(messages: list[list[Any]], nudges: int) -> float:
    """Nudges a second from the first to the last."""
    times = sorted(at for _, at, text in messages if text.startswith(NUDGE))
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--phase", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--quick", action="store_true", help="500 nudges, 5 s phases")
    args = parser.parse_args()
    if args.quick:
        args.nudges, args.phase = 500, 5.0
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(args, Path(folder)))
    found = result["waits"]
    print(f"{args.people} people writing every {args.every:g} s; {args.nudges} check-ins due "
          f"at the start of the fan-out; Telegram's {CEILING}/s enforced; {args.phase:g} s "
          "per phase. Seconds from a message to its first reply:")
    print(f"  {'phase':<9} {'messages':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}   "
          "crisis numbers (max)")
    p99: dict[str, float] = {}
    crisis_worst = 0.0
    for phase in ("quiet", "fan-out", "lookups"):
        replies = found.get((phase, "help"), [])
        crisis = found.get((phase, "crisis"), [])
        p99[phase] = percentile(replies, 0.99)
        worst = max(crisis, default=float("nan"))
        if crisis:
            crisis_worst = max(crisis_worst, worst)
        print(f"  {phase:<9} {len(replies):>8} {statistics.median(replies):7.3f} "
              f"{percentile(replies, 0.95):7.3f} {p99[phase]:7.3f} {max(replies):7.3f}   "
              + (f"{len(crisis)} in crisis, {statistics.median(crisis):.3f} median, "
                 f"{worst:.3f} max" if crisis else "-"))
    lookups = found.get(("lookups", "lookup"), [])
    if lookups:
        print("  the /reminder 20:30 Leeds typers themselves: median "
              f"{statistics.median(lookups):.3f}, "
              f"p99 {percentile(lookups, 0.99):.3f}")
    rate = nudge_rate(result["messages"], args.nudges)
    print(f"  nudges: {result['nudged']}/{args.nudges} people nudged, {result['nudge_repeats']} "
          f"twice; {result['nudges_sent_while_writing']} while people wrote, the rest in "
          f"{result['drain_seconds']:.0f} s after; first to last {rate:.1f}/s; "
          f"429s: {result['rate_limited']}")
    bound = max(2 * p99["quiet"], 1.0)
    ok = (p99["fan-out"] <= bound and p99["lookups"] <= bound and crisis_worst <= 1.0
          and result["nudged"] == args.nudges and not result["nudge_repeats"]
          and not result["rate_limited"])
    print(f"  targets (fan-out and lookups p99 <= {bound:.2f} s = max(2x quiet p99, 1 s); "
          f"crisis <= 1 s; every nudge once; 0 429s): {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
