"""Which updates go where: every kind of message a person can send is answered."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.convert import Route, classify, keyboard
from bot.events import Button, Kind, Outgoing

USER = {"id": 7, "is_bot": False, "first_name": "P"}
PRIVATE = {"id": 7, "type": "private", "first_name": "P"}


def update(**body: Any) -> Update:
    parsed = Update.de_json({"update_id": 1, **body}, None)
    assert parsed is not None
    return parsed


def message(**content: Any) -> dict[str, Any]:
    return {"message_id": 5, "date": 0, "chat": PRIVATE, "from": USER, **content}


@pytest.mark.parametrize("content", [
    {"photo": [{"file_id": "a", "file_unique_id": "a", "width": 1, "height": 1}]},
    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
    {"document": {"file_id": "d", "file_unique_id": "d"}},
    {"contact": {"phone_number": "+44", "first_name": "Sam"}},
    {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                 "height": 1, "is_animated": False, "is_video": False}},
    {"dice": {"emoji": "🎲", "value": 3}},
], ids=["photo", "voice", "document", "contact", "sticker", "dice"])
def test_anything_but_text_or_a_location_is_acknowledged(content: dict[str, Any]) -> None:
    inbound = classify(update(message=message(**content)))
    assert inbound.route is Route.ENGINE
    assert inbound.incoming is not None and inbound.incoming.kind is Kind.UNSUPPORTED


def test_text_command_location_button_edit() -> None:
    text = classify(update(message=message(text="I want a drink")))
    assert text.incoming is not None and text.incoming.kind is Kind.TEXT
    command = classify(update(message=message(text="/start@smart_coach_bot")))
    assert command.incoming is not None and command.incoming.command == "start"
    place = classify(update(message=message(location={"latitude": 1.5, "longitude": 2.5})))
    assert place.incoming is not None and place.incoming.location is not None
    press = classify(update(callback_query={"id": "q1", "from": USER, "chat_instance": "c",
                                            "data": "help|menu|0", "message": message(text="x")}))
    assert press.callback_query_id == "q1"
    assert press.incoming is not None and press.incoming.data == "help|menu|0"
    edited = classify(update(edited_message=message(text="oops", edit_date=1)))
    assert edited.incoming is not None and edited.incoming.kind is Kind.EDITED


def test_groups_and_channels_are_not_private() -> None:
    group = {"id": -100, "type": "supergroup", "title": "G"}
    assert classify(update(message={**message(text="/start"), "chat": group})).route \
        is Route.NOT_PRIVATE
    channel = {"id": -200, "type": "channel", "title": "C"}
    post = {"message_id": 1, "date": 0, "chat": channel, "text": "hello"}
    assert classify(update(channel_post=post)).route is Route.NOT_PRIVATE


def test_blocking_and_unblocking() -> None:
    bot = {"id": 1, "is_bot": True, "first_name": "B"}
    change = {"chat": PRIVATE, "from": USER, "date": 0,
              "old_chat_member": {"status": "member", "user": bot},
              "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0}}
    blocked = classify(update(my_chat_member=change))
    assert blocked.route is Route.ENGINE and blocked.incoming is not None
    assert blocked.incoming.kind is Kind.BLOCKED
    change["new_chat_member"] = {"status": "member", "user": bot}
    assert classify(update(my_chat_member=change)).route is Route.UNBLOCKED


def test_keyboards() -> None:
    short = Outgoing("How strong?", (Button("0-3", "a"), Button("4-6", "b")))
    assert [[b.text for b in row] for row in keyboard(short, "Share").inline_keyboard] == [
        ["0-3", "4-6"]]
    long = Outgoing("Pick", (Button("How does this work?", "a"), Button("Is this private?", "b")))
    assert len(keyboard(long, "Share").inline_keyboard) == 2  # one per row
    ask = keyboard(Outgoing("Where?", expect="location"), "Share my location")
    assert ask.keyboard[0][0].request_location is True
    assert keyboard(Outgoing("Hi"), "Share") is None
