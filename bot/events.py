"""The engine's boundary: what a channel hands in (Incoming) and gets back (Outgoing).

These types are all a channel needs to know about the engine. They carry plain data
only, so the console, Telegram and the tests speak the same language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Kind(StrEnum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    LOCATION = "location"
    TIMER = "timer"
    NUDGE = "nudge"  # the daily check-in is due
    BLOCKED = "blocked"  # the channel says the person blocked the bot: no more nudges
    UNSUPPORTED = "unsupported"  # a sticker, photo, voice note, file ... (not text)
    EDITED = "edited"  # an edited message: we go by new messages only


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Venue:
    """A place shown on a map, with its name and address (Telegram's sendVenue)."""

    latitude: float
    longitude: float
    title: str
    address: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event for one user. Build it with the class methods below."""

    user_id: int
    kind: Kind
    text: str = ""  # free text; the command's arguments for COMMAND
    command: str = ""  # without the leading slash, lower case
    data: str = ""  # a button's data as sent back by the channel
    location: Location | None = None
    timer_id: int | None = None  # the follow-up that fired
    update_id: int | None = None  # the channel's id for it, so a redelivery is not redone
    # The person's language as their app reports it ("en-US"): its region is a hint to
    # which country's crisis lines fit them.
    language: str | None = None

    @classmethod
    def message(cls, user_id: int, text: str) -> Incoming:
        """Free text as typed; a leading '/word' becomes a command."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            # Telegram appends "@BotName" to commands tapped in menus.
            name = head.split("@", 1)[0].lower()
            if name:
                return cls(user_id, Kind.COMMAND, text=rest.strip(), command=name)
        return cls(user_id, Kind.TEXT, text=text)

    @classmethod
    def button(cls, user_id: int, data: str) -> Incoming:
        return cls(user_id, Kind.BUTTON, data=data)

    @classmethod
    def shared_location(cls, user_id: int, latitude: float, longitude: float) -> Incoming:
        return cls(user_id, Kind.LOCATION, location=Location(latitude, longitude))

    @classmethod
    def other(cls, user_id: int, kind: Kind) -> Incoming:
        """Something the engine only acknowledges (UNSUPPORTED or EDITED)."""
        return cls(user_id, kind)

    @classmethod
    def nudge(cls, user_id: int) -> Incoming:
        return cls(user_id, Kind.NUDGE)

    @classmethod
    def blocked(cls, user_id: int) -> Incoming:
        return cls(user_id, Kind.BLOCKED)

    @classmethod
    def timer(cls, user_id: int, timer_id: int) -> Incoming:
        return cls(user_id, Kind.TIMER, timer_id=timer_id)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # within the strictest channel's limit (Telegram: 64 bytes), checked by validate


@dataclass(frozen=True, slots=True)
class Drawing:
    """A picture still to be drawn: the step gathers its data (a few rows), and the
    dispatcher draws it off the engine thread before it is sent (a chart takes ~100 ms:
    everyone's steps would wait). `data` is JSON, so it keeps in the outbox."""

    picture: str  # the registered picture (`photo:` in a dialog), e.g. progress_chart
    data: str


class Priority(IntEnum):
    """Which replies go first when a channel's limits make them wait (Telegram: about 30
    messages a second in all): lower first. The crisis reply is also never held back by
    the per-chat pace."""

    CRISIS = 0
    REPLY = 1  # to a person writing now
    FOLLOW_UP = 2  # a check-back the person asked for
    NUDGE = 3  # the daily check-in: only what the others leave


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One reply. `text` is in the Telegram HTML subset (<b>, <i>, entities escaped);
    channels without formatting strip the tags (see bot.dialog.render.to_plain)."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    photo: bytes | None = None
    location: Location | None = None
    venue: Venue | None = None
    document: tuple[str, bytes] | None = None  # (file name, content)
    drawing: Drawing | None = None  # becomes `photo` when the dispatcher draws it
    expect: str | None = None  # the typed answer the step waits for: text, number, location
    # Who goes first when the channel's limits make replies wait (see Priority).
    priority: Priority = Priority.REPLY
    # The store's receipt for a reply saved with its step (see bot.storage.outbox): the
    # dispatcher confirms delivery with it. Not part of what the reply says.
    outbox_id: int | None = field(default=None, compare=False)
