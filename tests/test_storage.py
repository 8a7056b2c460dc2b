"""The SQLite store (and the memory store that stands in for it): same behaviour, WAL,
migrations, a private file, whole steps or nothing."""

from __future__ import annotations

import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.events import Button, Incoming, Location, Outgoing, Venue
from bot.storage.base import NewFollowUp, NewRecord, StepWrites, Store, UserRecord
from bot.storage.inbox import decode as decode_event
from bot.storage.inbox import encode as encode_event
from bot.storage.sqlite import SqliteStore

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
MIGRATIONS = ["m001_initial", "m002_handled_updates", "m003_urge_used_as_text",
              "m004_reminders", "m005_outbox", "m006_handled_updates_by_user", "m007_inbox",
              "m008_records", "m009_people", "m010_locale"]


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made: Store = SqliteStore(tmp_path / "coach.db" if request.param == "file" else ":memory:")
    yield made
    made.close()


def test_a_new_user_is_blank_until_saved(store: Store) -> None:
    user = store.load_user(42)
    assert user == UserRecord(42)
    assert not user.known


def test_a_step_round_trips(store: Store) -> None:
    user = UserRecord(7, dialog="urge", state="rate", timezone="Europe/London",
                      settings={"reminder": "20:30"})
    store.save_step(StepWrites(user, set_answers={"reason": "my kids", "urge.before": 8,
                                                  "place": {"latitude": 51.5}}), NOW)
    loaded = store.load_user(7)
    assert loaded.known
    assert (loaded.dialog, loaded.state, loaded.timezone) == ("urge", "rate", "Europe/London")
    assert loaded.settings == {"reminder": "20:30"}
    assert loaded.answers == {"reason": "my kids", "urge.before": 8,
                              "place": {"latitude": 51.5}}
    loaded.dialog = loaded.state = None
    store.save_step(StepWrites(loaded, set_answers={"reason": "my health"},
                               removed_answers={"urge.before"}), NOW)
    again = store.load_user(7)
    assert (again.dialog, again.state) == (None, None)
    assert again.answers == {"reason": "my health", "place": {"latitude": 51.5}}


def test_unserialisable_answers_are_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        store.save_step(StepWrites(UserRecord(1), set_answers={"when": NOW}), NOW)


def test_follow_ups_and_records(store: Store) -> None:
    user = UserRecord(3, dialog="urge", state="delay")
    due = NOW + timedelta(minutes=15)
    (made,) = store.save_step(StepWrites(user, records=[NewRecord("urge", {"before": 8})],
                                         new_followups=[NewFollowUp(due, "urge", "recheck")]),
                              NOW).followups
    assert (made.user_id, made.due, made.dialog, made.state) == (3, due, "urge", "recheck")
    assert store.followup(made.id) == made
    assert store.pending_followups(until=NOW) == []
    assert store.pending_followups(until=due) == [made]
    assert [(r.kind, r.data, r.at) for r in store.records(3, "urge")] == [
        ("urge", {"before": 8}, NOW)]
    assert store.records(4, "urge") == [] and store.records(3, "abc") == []
    store.save_step(StepWrites(user, done_followup=made.id), due)
    assert store.followup(made.id) is None


def test_cancel_drops_only_that_users_follow_ups(store: Store) -> None:
    due = NOW + timedelta(minutes=15)
    for uid in (1, 2):
        store.save_step(StepWrites(UserRecord(uid), new_followups=[
            NewFollowUp(due, "urge", "recheck")]), NOW)
    store.save_step(StepWrites(UserRecord(1), cancel_followups=True), NOW)
    assert [f.user_id for f in store.pending_followups()] == [2]


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "coach.db"
    store = SqliteStore(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("pragma secure_delete").fetchone()[0] == 1
    assert store.schema_version() == MIGRATIONS
    assert {"users", "conversations", "answers", "records", "followups"} <= \
        set(store.db.table_names())
    store.close()


def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    SqliteStore(path).close()
    again = SqliteStore(path)
    assert again.schema_version() == MIGRATIONS
    rows = again.db.execute("select count(*) from _sqlite_migrations").fetchone()[0]
    assert rows == len(MIGRATIONS)
    again.close()


def test_a_failed_step_leaves_nothing_behind(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "coach.db")
    user = UserRecord(5, dialog="urge", state="rate")
    bad = StepWrites(user, set_answers={"ok": 1}, records=[NewRecord("urge", {"x": object()})])
    with pytest.raises(TypeError):
        store.save_step(bad, NOW)
    assert store.load_user(5) == UserRecord(5)
    store.close()


def test_another_connection_sees_committed_steps(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    writer = SqliteStore(path)
    writer.save_step(StepWrites(UserRecord(9, dialog="help", state="menu")), NOW)
    reader = SqliteStore(path)  # as after a crash: a new process on the same file
    assert reader.load_user(9).state == "menu"
    writer.close()
    reader.close()


def test_a_dialog_can_drop_only_its_own_follow_ups(store: Store) -> None:
    due = NOW + timedelta(minutes=15)
    store.save_step(StepWrites(UserRecord(4), new_followups=[
        NewFollowUp(due, "urge", "recheck"), NewFollowUp(due, "checkin", "nudge")]), NOW)
    store.save_step(StepWrites(UserRecord(4), cancel_dialogs={"urge"}), NOW)
    assert [f.dialog for f in store.pending_followups()] == ["checkin"]


EVERY_KIND = [
    Outgoing("<b>Hi</b> 👋 שלום", (Button("Yes", "d|s|0"), Button("No", "d|s|1")),
             expect="number"),
    Outgoing("chart", photo=b"\x89PNG\x00\xff"),
    Outgoing(location=Location(51.5, -0.12)),
    Outgoing(venue=Venue(51.5, -0.12, "Hall", "1 High St")),
    Outgoing("your data", document=("data.json", b'{"a": 1}')),
]


def test_replies_wait_in_the_outbox_until_delivered(store: Store) -> None:
    saved = store.save_step(StepWrites(UserRecord(5), replies=EVERY_KIND), NOW)
    store.save_step(StepWrites(UserRecord(6), replies=[Outgoing("other")]), NOW)
    ids = [r.outbox_id for r in saved.replies]
    assert None not in ids and ids == sorted(ids)
    unsent = store.unsent()
    assert [u.reply for u in unsent[:5]] == EVERY_KIND  # every field survives the trip
    assert [u.reply.outbox_id for u in unsent[:5]] == ids
    assert [u.user_id for u in unsent] == [5] * 5 + [6]
    assert unsent[0].created_at == NOW

    store.mark_delivered([i for i in ids[:2] if i is not None])
    # A later step carries the confirmations of what was delivered meanwhile.
    store.save_step(StepWrites(UserRecord(6), delivered=[unsent[5].reply.outbox_id or 0]), NOW)
    assert [u.reply for u in store.unsent()] == EVERY_KIND[2:]


def test_forgetting_empties_the_persons_outbox(store: Store) -> None:
    store.save_step(StepWrites(UserRecord(5), replies=[Outgoing("secret")]), NOW)
    store.save_step(StepWrites(UserRecord(6), replies=[Outgoing("kept")]), NOW)
    store.save_step(StepWrites(UserRecord(5), forget=True, replies=[Outgoing("gone")]), NOW)
    assert [(u.user_id, u.reply.text) for u in store.unsent()] == [(6, "kept"), (5, "gone")]


def test_the_inbox_holds_received_updates_until_their_step_is_saved(store: Store) -> None:
    from dataclasses import replace

    from bot.events import Incoming

    events = [replace(Incoming.message(5, "hello"), update_id=11),
              replace(Incoming.shared_location(6, 51.5, -0.1), update_id=12),
              replace(Incoming.button(5, "help|menu|0"), update_id=13)]
    assert store.receive(events, NOW) == events
    assert store.receive(events[:2], NOW) == []  # delivered again: already in hand
    assert store.inbox() == events  # every field survives the trip, in order
    store.save_step(StepWrites(UserRecord(5), update_id=11), NOW)
    assert store.receive(events[:1], NOW) == []  # handled: not taken in again
    store.drop_received(13)
    assert store.inbox() == events[1:2]
    store.save_step(StepWrites(UserRecord(6), forget=True), NOW)
    assert store.inbox() == []


def test_handled_update_ids_are_purged_as_the_bot_runs_by_its_clock(tmp_path: Path) -> None:
    """They were purged only at start-up, by the wall clock: a bot running for weeks kept
    every id, and a test clock had no say."""
    store = SqliteStore(tmp_path / "bot.db")
    store.save_step(StepWrites(UserRecord(5), update_id=1), NOW)
    store.save_step(StepWrites(UserRecord(5), update_id=2), NOW + timedelta(days=1))
    assert store.was_handled(1) and store.was_handled(2)
    store.save_step(StepWrites(UserRecord(6)), NOW + timedelta(days=2, hours=12))
    assert not store.was_handled(1)  # older than two days: gone
    assert store.was_handled(2)  # still within Telegram's reach: kept
    store.close()


def test_forgetting_is_one_transaction(tmp_path: Path) -> None:
    """A failure while /forget's step is saved (here: queueing its goodbye) leaves the person
    whole, to be forgotten when they ask again; it used to have deleted them already, in a
    transaction of its own, and lost the goodbye."""
    store = SqliteStore(tmp_path / "bot.db")
    store.save_step(StepWrites(UserRecord(5, dialog="help", state="menu"),
                               set_answers={"goal.why": "my kids"}), NOW)
    store.db.execute("create trigger outbox_full before insert on outbox "
                     "begin select raise(abort, 'disk full'); end")
    with pytest.raises(sqlite3.IntegrityError):
        store.save_step(StepWrites(UserRecord(5), forget=True,
                                   replies=[Outgoing("Everything is deleted.")]), NOW)
    kept = store.load_user(5)
    assert kept.known and kept.dialog == "help" and kept.answers == {"goal.why": "my kids"}
    store.close()


def test_the_inbox_keeps_the_language_of_an_event() -> None:
    event = replace(Incoming.message(5, "hola"), update_id=9, language="es-MX")
    assert decode_event(encode_event(event)) == event


def test_a_keyed_record_is_one_per_key_and_merged(store: Store) -> None:
    """A check-in is one per day: a second the same day replaces it, through its merge."""
    def keep_notes(old: dict, new: dict) -> dict:  # type: ignore[type-arg]
        return {**new, "note": f"{old['note']}/{new['note']}"}
    user = UserRecord(8)
    for note, at in (("morning", NOW), ("evening", NOW + timedelta(hours=9))):
        store.save_step(StepWrites(user, records=[
            NewRecord("checkin", {"note": note}, key="2026-03-29", merge=keep_notes)]), at)
    store.save_step(StepWrites(user, records=[NewRecord("checkin", {"note": "x"},
                                                        key="2026-03-30")]), NOW)
    days = store.records(8, "checkin")
    assert [(r.key, r.data["note"]) for r in days] == [("2026-03-29", "morning/evening"),
                                                       ("2026-03-30", "x")]
    assert [r.key for r in store.records(8, "checkin", since_key="2026-03-30")] == ["2026-03-30"]
    assert len(store.records(8, "checkin", limit=1)) == 1


def test_the_old_tables_move_into_records(tmp_path: Path) -> None:
    """A database from before m008 keeps its journal, urges and check-ins, as records."""
    from sqlite_utils import Database

    from bot.storage.sqlite import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m008_records")  # the schema before records
    db["journal"].insert({"user_id": 1, "kind": "abc", "data": '{"a": "x"}',
                          "created_at": "2026-03-01T10:00:00+00:00"})
    db["urges"].insert({"user_id": 1, "at": "2026-03-02T10:00:00+00:00", "strength_before": 8,
                        "strength_after": 3, "trigger": "payday", "place": "", "coping": "walk",
                        "used": "no", "next_time": "", "created_at": "x"})
    db["checkins"].insert({"user_id": 1, "day": "2026-03-03", "mood": 4, "urges": 2,
                           "went_well": "yes", "note": "ok",
                           "created_at": "2026-03-03T20:00:00+00:00"})
    db.conn.close()
    store = SqliteStore(path)
    assert [r.data for r in store.records(1, "abc")] == [{"a": "x"}]
    assert [r.data for r in store.records(1, "urge")] == [
        {"before": 8, "after": 3, "trigger": "payday", "place": "", "coping": "walk",
         "used": "no", "next_time": ""}]
    assert [(r.key, r.data) for r in store.records(1, "checkin")] == [
        ("2026-03-03", {"mood": 4, "urges": 2, "went_well": "yes", "note": "ok"})]
    assert not {"journal", "urges", "checkins"} & set(store.db.table_names())
    store.close()


def test_forget_and_export_cover_every_table_about_a_person(tmp_path: Path) -> None:
    """The tables /forget and /export read were a hand-kept list: a table added later and
    not listed kept its rows after /forget. They are now read from the schema."""
    store = SqliteStore(tmp_path / "coach.db")
    store.db["new_tool_table"].insert({"user_id": 6, "secret": "kept?"})
    store.save_step(StepWrites(UserRecord(6), records=[NewRecord("abc", {"a": 1})]), NOW)
    assert store.export(6)["new_tool_table"] == [{"user_id": 6, "secret": "kept?"}]
    store.save_step(StepWrites(UserRecord(6), forget=True), NOW)
    assert store.db.execute("select count(*) from new_tool_table").fetchone()[0] == 0
    assert store.records(6, "abc") == []
    store.close()


def test_people_are_channel_and_id_there(store: Store) -> None:
    """The terminal chat's user 5 was Telegram user 5: one person in a shared database."""
    telegram = store.person("telegram", "5")
    terminal = store.person("terminal", "5")
    assert telegram != terminal and store.person("telegram", "5") == telegram
    assert store.address(terminal) == ("terminal", "5")
    store.save_step(StepWrites(UserRecord(telegram), forget=True), NOW)
    assert store.address(telegram) is None  # /forget: their Telegram id is gone too
    again = store.person("telegram", "5")
    assert again not in (telegram, terminal)  # a new person, never an old id


def test_people_before_m009_keep_their_ids(tmp_path: Path) -> None:
    """Until m009 a person's id was their Telegram id: their rows stay theirs."""
    from sqlite_utils import Database

    from bot.storage.sqlite import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m009_people")
    db["users"].insert({"id": 424242, "language": "en", "created_at": "x"})
    db.conn.close()
    store = SqliteStore(path)
    assert store.person("telegram", "424242") == 424242
    assert store.person("telegram", "1") > 424242
    store.close()
