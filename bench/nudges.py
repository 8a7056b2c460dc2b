"""Daily check-ins at scale, beside their baselines.

    .venv/bin/python bench/nudges.py [--users 100000] [--same-minute 10000]

1. Start-up and memory with --users registered people who all have a reminder (none due):
   the nudge scheduler's start-up time and the process's resident memory, beside the same
   measured with no one registered. Memory must not grow with registered people: nothing
   per person is held in memory.
2. --same-minute nudges all due in the same minute, sent through the real Telegram client to
   the project's Bot API emulator, which enforces Telegram's 30 messages a second (a 429 for
   anything over) from a process of its own, as Telegram would: achieved messages per second
   against that ceiling, 429s, lost, duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel  # noqa: E402
from bot.config import CheckinsConfig, StorageConfig, TelegramConfig, load_config  # noqa: E402
from bot.storage.sqlite import SqliteStore  # noqa: E402
from tests.emulator import BotApiEmulator, base_url  # noqa: E402

CEILING = 30  # Telegram's messages per second, enforced by the emulator


def rss_mb() -> float:
    """Resident memory now, from /proc (ru_maxrss would only give the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(db: Path, users: int, due: datetime) -> None:
    store = SqliteStore(db)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    store.db.table("users").insert_all(
        ({"id": u, "language": "en", "timezone": "Europe/London", "settings": "{}",
          "active": 1, "created_at": stamp, "updated_at": stamp} for u in range(1, users + 1)),
        batch_size=5000)
    store.db.table("people").insert_all(  # Telegram's chat u is person u
        ({"user_id": u, "channel": "telegram", "external": str(u), "created_at": stamp}
         for u in range(1, users + 1)), batch_size=5000)
    store.db.table("reminders").insert_all(
        ({"user_id": u, "local_time": due.astimezone().strftime("%H:%M"),
          "zone": "Europe/London", "next_due": due.isoformat(timespec="seconds"),
          "claimed_due": None, "updated_at": stamp} for u in range(1, users + 1)),
        batch_size=5000)
    store.close()


def app_for(db: Path, emulator: BotApiEmulator) -> tuple[object, TelegramConfig]:
    """The bot as configured by default."""
    config = load_config(None, env={})
    tg = TelegramConfig(token=emulator.token, api_base_url=emulator.base_url,
                        api_base_file_url=emulator.base_file_url)
    checkins = CheckinsConfig(grace_minutes=120)
    config = replace(config, telegram=tg, storage=StorageConfig(str(db)), checkins=checkins)
    return build_app(config), tg


async def startup(users: int, tmp: Path) -> tuple[float, float]:
    """(seconds to start the nudge scheduler, resident MB after) with `users` not yet due."""
    db = tmp / f"startup-{users}.db"
    fill(db, users, datetime.now(UTC) + timedelta(hours=6))
    emulator = BotApiEmulator()
    await emulator.start()
    app, _ = app_for(db, emulator)
    started = time.perf_counter()

    async def deliver(user_id: int, reply: object) -> bool:
        return True

    await app.start_schedules(deliver)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    memory = rss_mb()
    await app.stop_schedules()  # type: ignore[attr-defined]
    app.close()  # type: ignore[attr-defined]
    await emulator.stop()
    return seconds, memory


@dataclass(frozen=True)
class Remote:
    """The emulator running in its own process (bench/emulator_process.py)."""

    port: int
    token: str

    @property
    def base_url(self) -> str:
        return base_url(self.port)

    @property
    def base_file_url(self) -> str:
        return base_url(self.port, "file/bot")


async def fan_out(users: int, tmp: Path) -> dict[str, float]:
    """The bot in this process, the emulator in its own, as Telegram would be: neither's
    pauses are counted against the other."""
    db = tmp / "fanout.db"
    fill(db, users, datetime.now(UTC) - timedelta(minutes=1))
    server = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "emulator_process.py"), "--per-second",
        str(CEILING), stdout=asyncio.subprocess.PIPE)
    assert server.stdout is not None
    started = json.loads(await server.stdout.readline())
    emulator = Remote(started["port"], started["token"])
    app, tg = app_for(db, emulator)  # type: ignore[arg-type]
    channel = TelegramChannel(app, tg, poll_timeout=1)  # type: ignore[arg-type]
    started = time.monotonic()
    async with channel.running():
        await app.nudges.drain()  # type: ignore[attr-defined]
        elapsed = time.monotonic() - started
    server.send_signal(signal.SIGTERM)
    summary = json.loads(await server.stdout.read())  # one long line: read to the end
    await server.wait()
    counts = [summary["per_chat"].get(str(u), 0) for u in range(1, users + 1)]
    return {"sent": summary["sent"], "seconds": elapsed,
            "per_second": summary["sent"] / elapsed,
            "sending_per_second": (summary["sent"] - 1) / (summary["last"] - summary["first"]),
            "rate_limited": summary["rate_limited"],
            "lost": sum(1 for c in counts if c == 0), "duplicates": sum(c - 1 for c in counts
                                                                        if c > 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--same-minute", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        base_s, base_mb = await startup(0, tmp)  # baseline: the same start, nobody registered
        big_s, big_mb = await startup(args.users, tmp)
        print("start-up of the nudge scheduler (resident memory after), same process:")
        print(f"  {0:>7} people with reminders: {base_s * 1000:8.1f} ms  {base_mb:7.1f} MB")
        print(f"  {args.users:>7} people with reminders: {big_s * 1000:8.1f} ms  "
              f"{big_mb:7.1f} MB  ({big_mb - base_mb:+.1f} MB)")
        result = await fan_out(args.same_minute, tmp)
    print(f"{args.same_minute} nudges due in the same minute, Telegram's {CEILING}/s enforced:")
    rate = result["sending_per_second"]
    print(f"  sent {result['sent']:.0f} in {result['seconds']:.1f} s from start-up "
          f"({result['per_second']:.1f}/s); from the first nudge to the last "
          f"{rate:.1f} messages/s = {rate / CEILING:.1%} of the {CEILING}/s ceiling")
    print(f"  429s: {result['rate_limited']:.0f}   lost: {result['lost']:.0f}   "
          f"duplicates: {result['duplicates']:.0f}")
    ok = rate >= 0.95 * CEILING and not (result["rate_limited"] or result["lost"]
                                          or result["duplicates"])
    print(f"  targets (>= 95% of {CEILING}/s, 0 429s, 0 lost, 0 duplicated): "
          f"{'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    asyncio.run(main())
