"""Fuzzing with hypothesis, bounded in time: any update a client could send, any dialog file,
any config file. No unhandled exception; every private text gets an answer; errors name
what is wrong."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.channels.telegram.convert import Route, classify
from bot.clock import FakeClock
from bot.config import load_config
from bot.dialog.engine import Engine
from bot.dialog.loader import check_directory, load_catalog
from bot.dialog.spec import Catalog
from bot.errors import ConfigError
from bot.events import Kind
from bot.storage.sqlite import SqliteStore
from bot.tools import default_registry

pytestmark = pytest.mark.slow  # hypothesis, hundreds of examples: ~10 s

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
REGISTRY = default_registry()


@functools.cache
def catalog() -> Catalog:
    """The real dialogs, loaded once on first use (not at import: collecting is quick)."""
    return load_catalog(ROOT / "dialogs", REGISTRY)


texts = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=300),
    st.sampled_from(["", " ", "🙂🙂🙂", "مرحبا، أريد أن أشرب", "שלום", "\u202eevil", "/",
                     "/start@other_bot extra", "/" + "x" * 60, "x" * 4096, "<b>", "&amp;",
                     "{reason}", "I want to end it all", "??", "0", "10", "-1", "1e9"]),
)
users = st.integers(min_value=1, max_value=5)
chat = st.builds(lambda uid: {"id": uid, "type": "private", "first_name": "P"}, users)
group = st.builds(lambda cid: {"id": -cid, "type": "supergroup", "title": "G"},
                  st.integers(1, 10**9))


def message(chat_: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {"message_id": 1, "date": 0, "chat": chat_,
            "from": {"id": abs(chat_["id"]), "is_bot": False, "first_name": "P"}, **content}


updates = st.one_of(
    st.builds(lambda c, t: {"message": message(c, text=t)}, chat, texts),
    st.builds(lambda c, t: {"edited_message": message(c, text=t, edit_date=1)}, chat, texts),
    st.builds(lambda c, t: {"message": message(c, text=t)}, group, texts),
    st.builds(lambda c, t: {"channel_post": {"message_id": 1, "date": 0, "text": t,
                                             "chat": {**c, "type": "channel"}}}, group, texts),
    st.builds(lambda c, d: {"callback_query": {
        "id": "q", "from": {"id": c["id"], "is_bot": False, "first_name": "P"},
        "chat_instance": "i", "data": d, "message": message(c, text="old")}}, chat,
        st.one_of(st.text(max_size=64), st.sampled_from(
            ["help|menu|0", "crisis|safety|1", "urge|pick|99", "?|urge", "?|", "|||", "?|none",
             "forget|confirm|0", "start|welcome|-1"]))),
    st.builds(lambda c, lat, lon: {"message": message(c, location={"latitude": lat,
                                                                   "longitude": lon})},
              chat, st.floats(-90, 90), st.floats(-180, 180)),
    st.builds(lambda c: {"message": message(c, sticker={
        "file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
        "is_animated": False, "is_video": False})}, chat),
    st.builds(lambda c: {"message": message(c, contact={"phone_number": "1",
                                                        "first_name": "A"})}, chat),
)


@SETTINGS
@given(st.lists(updates, min_size=1, max_size=12))
def test_any_update_gets_an_answer_and_never_an_exception(batch: list[dict[str, Any]]) -> None:
    engine = Engine(catalog(), REGISTRY, SqliteStore(":memory:"), FakeClock())
    for number, body in enumerate(batch, 1):
        update = Update.de_json({"update_id": number, **body}, None)
        assert update is not None
        inbound = classify(update)
        if inbound.route is not Route.ENGINE:
            continue
        assert inbound.incoming is not None
        replies = engine.handle(inbound.incoming)
        if inbound.incoming.kind in (Kind.TEXT, Kind.COMMAND, Kind.UNSUPPORTED, Kind.EDITED):
            assert replies, f"no answer to {inbound.incoming}"
        assert not any("Traceback" in r.text for r in replies)
        # Button data never moves anyone into a dialog they were not in.
        if inbound.incoming.kind is Kind.BUTTON and not inbound.incoming.data.startswith("?|"):
            assert all(r.text != "" or r.document or r.venue or r.photo or r.drawing
                       for r in replies)


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["dialog", "start", "states", "say", "buttons", "label", "to",
                                 "next", "expect", "save", "do", "end", "if", "a", "b",
                                 "messages", "range", "on", "command"]), inner, max_size=5)),
    max_leaves=25)


@SETTINGS
@given(yaml_values, st.text(max_size=200))
def test_any_dialog_file_gives_problems_not_a_traceback(tmp_path_factory: Any, data: Any,
                                                        raw: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "a.yaml").write_text(yaml.safe_dump(data))
    (folder / "b.yaml").write_text(raw)
    catalog, problems = check_directory(folder, REGISTRY)
    assert catalog is not None or problems
    assert all(p.line >= 1 and p.message for p in problems)


@SETTINGS
@given(yaml_values)
def test_any_config_file_is_loaded_or_refused_naming_a_key(tmp_path_factory: Any,
                                                           data: Any) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        load_config(path, env={})
    except ConfigError as exc:
        assert exc.key and str(path) in str(exc)
