"""The SQLite store (sqlite-utils), the default: WAL mode, migrations, one lock.

One connection shared by every thread (check_same_thread=False) behind one lock: the
engine runs steps on a single worker thread anyway, and SQLite serialises writers.
synchronous=NORMAL in WAL mode survives a killed process (only a power cut can lose the
last commits); secure_delete overwrites deleted rows instead of leaving them in free pages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from bot.events import Incoming, Outgoing
from bot.storage import outbox
from bot.storage.base import (
    FollowUp,
    NewRecord,
    Nudge,
    Record,
    Reminder,
    SavedStep,
    StepWrites,
    UserRecord,
)
from bot.storage.inbox import decode as decode_event
from bot.storage.inbox import encode as encode_event
from bot.storage.outbox import Unsent

migrations = Migrations("smart-coach")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("users").create({
        "id": int, "language": str, "timezone": str, "settings": str, "active": int,
        "created_at": str, "updated_at": str,
    }, pk="id")
    db.table("conversations").create({"user_id": int, "dialog": str, "state": str,
                                "updated_at": str}, pk="user_id")
    db.table("answers").create({"user_id": int, "key": str, "value": str, "updated_at": str},
                         pk=("user_id", "key"))
    db.table("journal").create({"id": int, "user_id": int, "kind": str, "data": str,
                          "created_at": str}, pk="id")
    db.table("journal").create_index(["user_id"])
    db.table("urges").create({
        "id": int, "user_id": int, "at": str, "strength_before": int, "strength_after": int,
        "minutes": int, "trigger": str, "place": str, "coping": str, "used": int,
        "next_time": str, "created_at": str,
    }, pk="id")
    db.table("urges").create_index(["user_id", "at"])
    db.table("checkins").create({
        "id": int, "user_id": int, "day": str, "mood": int, "urges": int, "went_well": str,
        "note": str, "created_at": str,
    }, pk="id")
    db.table("checkins").create_index(["user_id", "day"], unique=True)
    db.table("followups").create({"id": int, "user_id": int, "due_at": str, "dialog": str,
                            "state": str, "created_at": str}, pk="id")
    db.table("followups").create_index(["due_at"])
    db.table("followups").create_index(["user_id"])


@migrations()
def m002_handled_updates(db: Database) -> None:
    # Telegram redelivers updates it did not see confirmed; these ids make that harmless.
    db.table("handled_updates").create({"update_id": int, "user_id": int, "handled_at": str},
                                       pk="update_id")
    db.table("handled_updates").create_index(["handled_at"])


@migrations()
def m003_urge_used_as_text(db: Database) -> None:
    # "used" holds yes / no / rather not say: the person's own answer, not a flag.
    db.table("urges").transform(types={"used": str})


@migrations()
def m004_reminders(db: Database) -> None:
    # One row per person with a daily check-in. next_due is the source of truth for the
    # scheduler; claimed_due marks a nudge taken for sending but not yet confirmed sent.
    db.table("reminders").create({"user_id": int, "local_time": str, "zone": str,
                                  "next_due": str, "claimed_due": str, "updated_at": str},
                                 pk="user_id")
    db.table("reminders").create_index(["next_due"])


@migrations()
def m005_outbox(db: Database) -> None:
    # A step's replies until the channel confirms them delivered (bot.storage.outbox).
    # AUTOINCREMENT: an id is never reused, so a late confirmation cannot hit a new reply.
    db.execute("create table outbox (id integer primary key autoincrement, user_id integer, "
               "reply text, created_at text)")
    db.table("outbox").create_index(["user_id"])


@migrations()
def m006_handled_updates_by_user(db: Database) -> None:
    # /forget and /export look a person's handled updates up by user_id: without it both
    # scanned every update of the last two days (19 ms at 333k rows; 0.2 ms with it).
    db.table("handled_updates").create_index(["user_id"])


@migrations()
def m007_inbox(db: Database) -> None:
    # Updates received, saved before Telegram is told they arrived (bot.storage.inbox).
    db.table("inbox").create({"update_id": int, "user_id": int, "event": str,
                              "received_at": str}, pk="update_id")


@migrations()
def m008_records(db: Database) -> None:
    # One person-keyed table for what every tool keeps (kind, data, when; a key makes it
    # one per key, e.g. a check-in per day), instead of a table per tool: a new tool
    # needs no migration, and /export and /forget cover it by construction.
    db.execute("create table records (id integer primary key, user_id integer not null, "
               "kind text not null, key text, data text not null, at text not null)")
    db.execute("create index records_by_person on records (user_id, kind, at)")
    db.execute("create unique index records_by_key on records (user_id, kind, key)")
    db.execute("insert into records (user_id, kind, data, at) "
               "select user_id, kind, data, created_at from journal order by id")
    db.execute("insert into records (user_id, kind, data, at) select user_id, 'urge', "
               "json_object('before', strength_before, 'after', strength_after, "
               "'trigger', trigger, 'place', place, 'coping', coping, 'used', used, "
               "'next_time', next_time), at from urges order by id")
    db.execute("insert into records (user_id, kind, key, data, at) select user_id, "
               "'checkin', day, json_object('mood', mood, 'urges', urges, 'went_well', "
               "went_well, 'note', note), created_at from checkins order by id")
    for table in ("journal", "urges", "checkins"):
        db.execute(f"drop table {table}")


@migrations()
def m009_people(db: Database) -> None:
    # A person is (channel, their id there), mapped to the id everything else uses: the
    # terminal chat's user 5 is no longer Telegram user 5, and a channel whose ids are not
    # numbers fits. AUTOINCREMENT: an id is never given again, so nothing left for a
    # person who used /forget (a reply on its way, a timer) reaches someone new.
    db.execute("create table people (user_id integer primary key autoincrement, "
               "channel text not null, external text not null, created_at text)")
    db.execute("create unique index people_by_channel on people (channel, external)")
    # Until now a person's id was their Telegram id.
    db.execute("insert into people (user_id, channel, external, created_at) "
               "select id, 'telegram', cast(id as text), created_at from users")


@migrations()
def m010_locale(db: Database) -> None:
    # The language the bot speaks to a person, chosen at first contact from their app's
    # language or with /language; `language` stays what their app reports (a region hint).
    db.execute("alter table users add column locale text")
    # Everyone so far was spoken to in English: no one switches language unasked.
    db.execute("update users set locale = 'en'")


MESSAGES_ON_THE_WAY = ("outbox", "inbox")  # not part of an export: not data about them


HANDLED_KEPT = timedelta(days=2)  # Telegram keeps an unconfirmed update for 24 hours
PURGE_EVERY = timedelta(hours=1)  # how often a step also purges old handled ids


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


class SqliteStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            _private_file(self.path)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self.db = Database(conn)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "secure_delete=ON",
                       "foreign_keys=ON", "busy_timeout=5000"):
            conn.execute(f"PRAGMA {pragma}")
        migrations.apply(self.db)
        self._purge_due: datetime | None = None  # when handled ids are next purged

    def schema_version(self) -> list[str]:
        return [m.name for m in migrations.applied(self.db)]

    def load_user(self, user_id: int) -> UserRecord:
        with self._lock:
            row = next(self.db.query("select * from users where id = ?", [user_id]), None)
            record = UserRecord(user_id)
            if row is None:
                return record
            record.known = True
            record.language = row["language"] or "en"
            record.locale = row["locale"]
            record.timezone = row["timezone"]
            record.settings = json.loads(row["settings"] or "{}")
            record.active = bool(row["active"])
            conv = next(self.db.query("select dialog, state from conversations "
                                      "where user_id = ?", [user_id]), None)
            if conv:
                record.dialog, record.state = conv["dialog"], conv["state"]
            record.answers = {r["key"]: json.loads(r["value"]) for r in self.db.query(
                "select key, value from answers where user_id = ?", [user_id])}
            return record

    def save_step(self, writes: StepWrites, now: datetime) -> SavedStep:
        user, stamp = writes.user, _iso(now)
        if writes.forget:
            # One transaction: a crash leaves either everything or nothing of the person
            # (and the step's goodbye queued), never half of them.
            with self._lock:
                with self.db.atomic():
                    for name, column in self._personal():
                        self.db.execute(f"delete from {name} where {column} = ?",
                                        [user.user_id])
                    self._delete_delivered(writes.delivered)
                    queued = self._queue(user.user_id, writes.replies, stamp)
                # secure_delete overwrote the deleted bytes in the database file; this
                # empties the WAL of the old page images too.
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return SavedStep([], queued)
        created: list[FollowUp] = []
        with self._lock, self.db.atomic():
            self._delete_delivered(writes.delivered)
            if self._purge_due is None or now >= self._purge_due:
                # Ids of handled updates are kept only while Telegram might send them again;
                # purged as the bot runs, by the step's clock.
                self.db.execute("delete from handled_updates where handled_at < ?",
                                [_iso(now - HANDLED_KEPT)])
                self._purge_due = now + PURGE_EVERY
            self.db.execute(
                "insert into users (id, language, locale, timezone, settings, active, "
                "created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict(id) do "
                "update set language = excluded.language, locale = excluded.locale, "
                "timezone = excluded.timezone, settings = excluded.settings, "
                "active = excluded.active, updated_at = excluded.updated_at",
                [user.user_id, user.language, user.locale, user.timezone,
                 json.dumps(user.settings), int(user.active), stamp, stamp])
            if user.dialog:
                self.db.table("conversations").upsert(
                    {"user_id": user.user_id, "dialog": user.dialog, "state": user.state,
                     "updated_at": stamp}, pk="user_id")
            else:
                self.db.execute("delete from conversations where user_id = ?", [user.user_id])
            if writes.set_answers:
                self.db.table("answers").upsert_all(
                    [{"user_id": user.user_id, "key": k, "value": json.dumps(v),
                      "updated_at": stamp} for k, v in writes.set_answers.items()],
                    pk=("user_id", "key"))
            for key in writes.removed_answers:
                self.db.execute("delete from answers where user_id = ? and key = ?",
                                [user.user_id, key])
            for record in writes.records:
                self._write(user.user_id, record, stamp)
            if writes.cancel_followups:
                self.db.execute("delete from followups where user_id = ?", [user.user_id])
            for dialog in writes.cancel_dialogs:
                self.db.execute("delete from followups where user_id = ? and dialog = ?",
                                [user.user_id, dialog])
            if writes.done_followup is not None:
                self.db.execute("delete from followups where id = ?", [writes.done_followup])
            if writes.reminder is not None:
                change = writes.reminder
                if change.local_time is None:
                    self.db.execute("delete from reminders where user_id = ?", [user.user_id])
                else:
                    assert change.next_due is not None
                    self.db.table("reminders").upsert(
                        {"user_id": user.user_id, "local_time": change.local_time,
                         "zone": change.zone, "next_due": _iso(change.next_due),
                         "claimed_due": None, "updated_at": stamp}, pk="user_id")
            if writes.update_id is not None:
                self.db.execute("insert or ignore into handled_updates values (?, ?, ?)",
                                [writes.update_id, user.user_id, stamp])
                self.db.execute("delete from inbox where update_id = ?", [writes.update_id])
            for new in writes.new_followups:
                table = self.db.table("followups")
                table.insert({"user_id": user.user_id, "due_at": _iso(new.due),
                              "dialog": new.dialog, "state": new.state, "created_at": stamp})
                assert table.last_pk is not None
                created.append(FollowUp(int(table.last_pk), user.user_id,
                                        _dt(_iso(new.due)), new.dialog, new.state))
            if writes.nudge_done:
                self.db.execute("update reminders set claimed_due = null where user_id = ?",
                                [user.user_id])
            replies = self._queue(user.user_id, writes.replies, stamp)
        return SavedStep(created, replies)

    def _write(self, user_id: int, record: NewRecord, stamp: str) -> None:
        data = record.data
        if record.key is not None and record.merge is not None:
            earlier = next(self.db.query(
                "select data from records where user_id = ? and kind = ? and key = ?",
                [user_id, record.kind, record.key]), None)
            if earlier is not None:
                data = record.merge(json.loads(earlier["data"]), data)
        self.db.execute(
            "insert into records (user_id, kind, key, data, at) values (?, ?, ?, ?, ?) "
            "on conflict(user_id, kind, key) do update set data = excluded.data, "
            "at = excluded.at", [user_id, record.kind, record.key, json.dumps(data), stamp])

    def _personal(self) -> list[tuple[str, str]]:
        """Every table with rows about a person and the column naming them, read from the
        schema (a `user_id` column; `users.id`): a table added later is covered without
        anyone remembering to list it."""
        found = [("users", "id")]
        for table in self.db.tables:
            if table.name != "users" and "user_id" in table.columns_dict:
                found.append((table.name, "user_id"))
        return found

    def _queue(self, user_id: int, replies: list[Outgoing], stamp: str) -> list[Outgoing]:
        queued = []
        for reply in replies:
            cursor = self.db.execute("insert into outbox (user_id, reply, created_at) "
                                     "values (?, ?, ?)", [user_id, outbox.encode(reply),
                                                          stamp])
            assert cursor.lastrowid is not None
            queued.append(dataclasses.replace(reply, outbox_id=cursor.lastrowid))
        return queued

    def _delete_delivered(self, outbox_ids: list[int]) -> None:
        if outbox_ids:
            self.db.execute(f"delete from outbox where id in ({','.join('?' * len(outbox_ids))})",
                            outbox_ids)

    def mark_delivered(self, outbox_ids: list[int]) -> None:
        with self._lock, self.db.atomic():
            self._delete_delivered(outbox_ids)

    def unsent(self) -> list[Unsent]:
        with self._lock:
            rows = list(self.db.query("select * from outbox order by id"))
        return [Unsent(r["user_id"], _dt(r["created_at"]), outbox.decode(r["reply"], r["id"]))
                for r in rows]

    def receive(self, events: list[Incoming], now: datetime) -> list[Incoming]:
        fresh = []
        with self._lock, self.db.atomic():
            for event in events:
                handled = self.db.execute("select 1 from handled_updates where update_id = ?",
                                          [event.update_id]).fetchone()
                if handled:
                    continue
                cursor = self.db.execute(
                    "insert or ignore into inbox values (?, ?, ?, ?)",
                    [event.update_id, event.user_id, encode_event(event), _iso(now)])
                if cursor.rowcount:
                    fresh.append(event)
        return fresh

    def person(self, channel: str, external: str) -> int:
        with self._lock, self.db.atomic():
            row = self.db.execute("select user_id from people where channel = ? and "
                                  "external = ?", [channel, external]).fetchone()
            if row is not None:
                return int(row[0])
            cursor = self.db.execute(
                "insert into people (channel, external, created_at) values (?, ?, ?)",
                [channel, external, _iso(datetime.now(UTC))])
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)

    def address(self, user_id: int) -> tuple[str, str] | None:
        with self._lock:
            row = self.db.execute("select channel, external from people where user_id = ?",
                                  [user_id]).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def inbox(self) -> list[Incoming]:
        with self._lock:
            rows = self.db.execute("select event from inbox order by update_id").fetchall()
        return [decode_event(raw) for (raw,) in rows]

    def drop_received(self, update_id: int) -> None:
        with self._lock, self.db.atomic():
            self.db.execute("delete from inbox where update_id = ?", [update_id])

    def was_handled(self, update_id: int) -> bool:
        with self._lock:
            return self.db.execute("select 1 from handled_updates where update_id = ?",
                                   [update_id]).fetchone() is not None

    def followup(self, followup_id: int) -> FollowUp | None:
        with self._lock:
            row = next(self.db.query("select * from followups where id = ?", [followup_id]),
                       None)
        return _followup(row) if row else None

    def pending_followups(self, until: datetime | None = None) -> list[FollowUp]:
        sql, params = "select * from followups", []  # type: tuple[str, list[Any]]
        if until is not None:
            sql, params = sql + " where due_at <= ?", [_iso(until)]
        with self._lock:
            return [_followup(r) for r in self.db.query(sql + " order by due_at, id", params)]

    def next_followup_due(self, after: datetime) -> datetime | None:
        with self._lock:
            row = self.db.execute("select min(due_at) from followups where due_at > ?",
                                  [_iso(after)]).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def followups_of(self, user_id: int) -> list[FollowUp]:
        with self._lock:
            return [_followup(r) for r in self.db.query(
                "select * from followups where user_id = ? order by due_at, id", [user_id])]

    def records(self, user_id: int, kind: str, limit: int | None = None,
                since_key: str | None = None) -> list[Record]:
        sql = "select * from records where user_id = ? and kind = ?"
        params: list[Any] = [user_id, kind]
        if since_key is not None:
            sql += " and key >= ?"
            params.append(since_key)
        sql += " order by at desc, id desc"
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        with self._lock:
            rows = list(self.db.query(sql, params))
        return [Record(r["kind"], json.loads(r["data"]), _dt(r["at"]), r["key"])
                for r in rows]

    def reminder(self, user_id: int) -> Reminder | None:
        with self._lock:
            row = next(self.db.query("select * from reminders where user_id = ?", [user_id]),
                       None)
        return _reminder(row) if row else None

    def next_nudge_due(self, after: datetime) -> datetime | None:
        with self._lock:
            row = self.db.execute(
                "select min(r.next_due) from reminders r join users u on u.id = r.user_id "
                "where r.next_due > ? and u.active = 1", [_iso(after)]).fetchone()
        return _dt(row[0]) if row and row[0] else None

    def claim_nudges(self, now: datetime, grace: timedelta,
                     schedule: Callable[[Reminder, datetime], tuple[datetime, datetime]],
                     limit: int | None = None) -> list[Nudge]:
        claimed: list[Nudge] = []
        with self._lock, self.db.atomic():
            rows = list(self.db.query(
                "select r.* from reminders r join users u on u.id = r.user_id "
                "where r.next_due <= ? and u.active = 1 order by r.next_due limit ?",
                [_iso(now), -1 if limit is None else limit]))
            for row in rows:
                reminder = _reminder(row)
                latest, upcoming = schedule(reminder, now)
                within = now - latest <= grace
                self.db.execute(
                    "update reminders set next_due = ?, claimed_due = ? where user_id = ?",
                    [_iso(upcoming), _iso(latest) if within else row["claimed_due"],
                     reminder.user_id])
                if within:
                    claimed.append(Nudge(reminder.user_id, latest))
        return claimed

    def claimed_nudges(self) -> list[Nudge]:
        with self._lock:
            rows = list(self.db.query("select user_id, claimed_due from reminders "
                                      "where claimed_due is not null order by claimed_due"))
        return [Nudge(r["user_id"], _dt(r["claimed_due"])) for r in rows]

    def nudge_sent(self, user_id: int) -> None:
        with self._lock:
            self.db.execute("update reminders set claimed_due = null where user_id = ?",
                            [user_id])


    def export(self, user_id: int) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {}
            for table, column in self._personal():
                if table in MESSAGES_ON_THE_WAY:
                    continue
                rows = list(self.db.query(f"select * from {table} where {column} = ?",
                                          [user_id]))
                for row in rows:
                    for key in ("settings", "value", "data"):
                        if isinstance(row.get(key), str):
                            with contextlib.suppress(ValueError):  # plain text stays text
                                row[key] = json.loads(row[key])
                data[table] = rows
        return data

    def stats(self) -> dict[str, int]:
        with self._lock:
            def count(sql: str) -> int:
                return int(self.db.execute(sql).fetchone()[0])
            return {"people": count("select count(*) from users"),
                    "active": count("select count(*) from users where active = 1"),
                    "daily check-ins set": count("select count(*) from reminders"),
                    **{f"{row[0]} records": int(row[1]) for row in self.db.execute(
                        "select kind, count(*) from records group by kind order by kind")}}

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()


def _reminder(row: dict[str, Any]) -> Reminder:
    return Reminder(row["user_id"], row["local_time"], row["zone"], _dt(row["next_due"]))


def _followup(row: dict[str, Any]) -> FollowUp:
    return FollowUp(row["id"], row["user_id"], _dt(row["due_at"]), row["dialog"], row["state"])
