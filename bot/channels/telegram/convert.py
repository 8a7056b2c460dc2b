"""Translate between Telegram's objects and the engine's events and replies. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from telegram import (
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType

from bot.events import Incoming, Kind, Outgoing

SHORT_LABEL = 8  # buttons this short share rows (e.g. 0-3 / 4-6 / 7-10, or 0 ... 10)
ROW = 6


class Route(Enum):
    ENGINE = "engine"  # anything in a private chat: the engine answers it
    NOT_PRIVATE = "not_private"  # a group or channel: answer with a note, store nothing
    UNBLOCKED = "unblocked"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Inbound:
    route: Route
    chat_id: int | None = None
    incoming: Incoming | None = None
    callback_query_id: str | None = None


def classify(update: Update) -> Inbound:
    """Where an update goes. Decides from the update alone, so it is easy to test."""
    if update.my_chat_member is not None:
        return _membership(update.my_chat_member)
    chat = update.effective_chat
    if chat is None:
        return Inbound(Route.IGNORE)
    if chat.type != ChatType.PRIVATE:
        return Inbound(Route.NOT_PRIVATE, chat.id)
    user_id = chat.id  # in a private chat, the chat is the person
    if update.edited_message is not None:
        return Inbound(Route.ENGINE, chat.id, Incoming.other(user_id, Kind.EDITED))
    query = update.callback_query
    if query is not None:
        return Inbound(Route.ENGINE, chat.id, Incoming.button(user_id, query.data or ""),
                       callback_query_id=query.id)
    message = update.message
    if message is None:
        return Inbound(Route.IGNORE, chat.id)
    language = update.effective_user.language_code if update.effective_user else None
    if message.location is not None:
        loc = message.location
        event = Incoming.shared_location(user_id, loc.latitude, loc.longitude)
    elif message.text is not None:
        event = Incoming.message(user_id, message.text)
    else:
        event = Incoming.other(user_id, Kind.UNSUPPORTED)
    return Inbound(Route.ENGINE, chat.id, replace(event, language=language or None))


def _membership(change: ChatMemberUpdated) -> Inbound:
    if change.chat.type != ChatType.PRIVATE:
        return Inbound(Route.IGNORE, change.chat.id)
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        # A step like any other: in order with the person's messages, under their lock.
        return Inbound(Route.ENGINE, change.chat.id, Incoming.blocked(change.chat.id))
    return Inbound(Route.UNBLOCKED, change.chat.id)


def keyboard(reply: Outgoing, share_location_label: str
             ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Inline buttons for a reply's choices; a location button where one is expected."""
    if reply.buttons:
        buttons = [InlineKeyboardButton(b.label, callback_data=b.data) for b in reply.buttons]
        if all(len(b.label) <= SHORT_LABEL for b in reply.buttons):
            # Short choices (a 0-10 scale) side by side, six to a row.
            return InlineKeyboardMarkup([buttons[i:i + ROW] for i in range(0, len(buttons), ROW)])
        return InlineKeyboardMarkup([[b] for b in buttons])
    if reply.expect == "location":
        return ReplyKeyboardMarkup([[KeyboardButton(share_location_label, request_location=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    return None
