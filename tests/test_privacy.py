"""Privacy: export everything, forget everything (not a byte left in the database files),
each person sees only their own data, admins see counts only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.storage.sqlite import SqliteStore
from bot.testing import ChatClient
from bot.tools import default_registry

CATALOG = None


def engine_on(store, dialogs_dir: Path, admins: frozenset[int] = frozenset()) -> Engine:
    registry = default_registry()
    global CATALOG
    CATALOG = CATALOG or load_catalog(dialogs_dir, registry)
    return Engine(CATALOG, registry, store, FakeClock(datetime(2026, 6, 1, 18, tzinfo=UTC)),
                  admins=admins)


def use_everything(chat: ChatClient, marker: str) -> None:
    """Answers, a journal entry, an urge, a check-in and a reminder, all carrying `marker`."""
    chat.send("/cba")
    for box in ("relief", "money", "health", "friends"):
        chat.send(f"{box} {marker}")
    chat.press("Done")
    chat.send("/urge")
    chat.press("6")
    chat.press("Get away from it")
    chat.press("I'm away from it")
    chat.press("2")
    chat.send(f"trigger {marker}")
    chat.send(f"place {marker}")
    chat.press("No")
    chat.send(f"next time {marker}")
    chat.send("/checkin")
    for label in ("4", "3", "Yes"):
        chat.press(label)
    chat.send(f"note {marker}")
    chat.send("/reminder 20:30 Europe/London")


def test_export_holds_everything_about_the_person(dialogs_dir: Path) -> None:
    chat = ChatClient(engine=engine_on(SqliteStore(":memory:"), dialogs_dir))
    use_everything(chat, "MARK-1")
    chat.send("/export")
    name, content = next(r.document for r in chat.replies if r.document)
    data = json.loads(content)
    assert name == "smart-coach-data.json" and data["user_id"] == 1
    assert any(a["value"] == "relief MARK-1" for a in data["answers"])
    records = data["records"]  # every tool's, by kind
    assert records["cba"] and records["urge"][0]["trigger"] == "trigger MARK-1"
    assert records["checkin"][0]["note"] == "note MARK-1"
    assert data["reminders"][0]["zone"] == "Europe/London"
    assert "• urges logged: 1" in chat.text and "• check-ins: 1" in chat.text


def test_forget_leaves_no_byte_of_what_the_person_wrote(dialogs_dir: Path,
                                                        tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    store = SqliteStore(db)
    engine = engine_on(store, dialogs_dir)
    chat = ChatClient(engine=engine)
    other = ChatClient(engine=engine, user_id=2)
    marker = "UNIQUE-MARKER-7f3a9c"
    use_everything(chat, marker)
    use_everything(other, "OTHER-PERSON-keeps-this")
    files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    assert any(marker.encode() in f.read_bytes() for f in files if f.exists())  # it was there
    chat.send("/forget")
    chat.press("No, keep it")
    assert chat.engine.store.load_user(1).known
    chat.send("/forget")
    chat.press("Yes, delete everything")
    assert chat.texts == ["Done. Everything is deleted. If you ever want to start again, "
                          "just say hi."]
    for f in files:
        if f.exists():
            assert marker.encode() not in f.read_bytes(), f"{f.name} still holds the marker"
    assert store.load_user(1).known is False and store.reminder(1) is None
    assert store.export(1) == {table: [] for table in store.export(1)}
    assert [r["data"]["trigger"] for r in store.export(2)["records"] if r["kind"] == "urge"] \
        == ["trigger OTHER-PERSON-keeps-this"]
    store.close()


people = st.integers(min_value=1, max_value=4)
actions = st.lists(st.tuples(people, st.sampled_from(["/cba", "/urge", "/checkin", "text",
                                                       "/export", "/start", "1", "/goals"])),
                   min_size=5, max_size=40)


@pytest.mark.slow  # hypothesis, 25 conversations of 5 to 40 steps: ~2 s
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(actions)
def test_no_one_ever_sees_anyone_elses_data(dialogs_dir: Path, steps) -> None:  # type: ignore
    engine = engine_on(SqliteStore(":memory:"), dialogs_dir)
    chats = {p: ChatClient(engine=engine, user_id=p) for p in range(1, 5)}
    for person, action in steps:
        text = f"secret-of-{person}" if action == "text" else action
        chats[person].send(text)
        seen = json.dumps([r.text for r in chats[person].replies]) + "".join(
            r.document[1].decode() for r in chats[person].replies if r.document)
        for stranger in range(1, 5):
            if stranger != person:
                assert f"secret-of-{stranger}" not in seen
    for person, chat in chats.items():
        chat.send("/export")
        exported = b"".join(r.document[1] for r in chat.replies if r.document).decode()
        assert all(f"secret-of-{s}" not in exported for s in range(1, 5) if s != person)


def test_stats_are_for_admins_and_only_counts(dialogs_dir: Path) -> None:
    engine = engine_on(SqliteStore(":memory:"), dialogs_dir, admins=frozenset({99}))
    person = ChatClient(engine=engine, user_id=5)
    use_everything(person, "private words")
    person.send("/stats")
    assert person.texts == ["I don't know /stats. Tap /help to see what I can do."]
    admin = ChatClient(engine=engine, user_id=99)
    admin.send("/stats")
    assert "people: 1" in admin.text and "urge records: 1" in admin.text
    assert "private" not in admin.text
    assert "stats" not in [c for c, _ in engine.catalog.commands()]  # not in the menu


def test_the_database_is_private_to_its_owner(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new" / "coach.db")
    assert oct((tmp_path / "new" / "coach.db").stat().st_mode & 0o777) == "0o600"
    store.close()


def test_replace_keeps_configured_admin_ids(tmp_path: Path) -> None:
    from bot.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text("admin_ids: [12345, 678]\n")
    assert load_config(path, env={}).admin_ids == (12345, 678)
    assert replace(load_config(None, env={})).admin_ids == ()
