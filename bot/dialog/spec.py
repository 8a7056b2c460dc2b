"""Typed, validated form of a dialog file: what the loader builds and the engine runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.nlu.understanding import Understanding

BEGIN = "_begin"  # hidden state every dialog starts from, so entering `start` fires callbacks
CRISIS_DIALOG = "crisis"  # opened, from any state, when a message signals a crisis
NUDGE_DIALOG = "nudge"  # opened when the daily check-in is due
COMMAND_ARGS = "command.args"  # the answer holding what followed the last /command
INTENT_TEXT = "intent.text"  # the answer holding the free text that opened a dialog
SHARED_PLACE = "place.shared"  # the answer holding the last location the person shared
INTENT_NAME = "intent.name"  # ... and the intent it was understood as (one dialog, several)
CLARIFY = "?"  # button data "?|intent": an answer to "did you mean ...?"
CONTINUE = ""  # "?|": carry on with the current step
SEPARATOR = "|"  # in button data: dialog|state|index


@dataclass(frozen=True, slots=True)
class Call:
    """A reference to a registered action or condition, with its arguments."""

    name: str
    args: Any
    line: int


@dataclass(frozen=True, slots=True)
class Branch:
    to: str
    when: Call | None
    line: int


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    to: str | None
    value: Any
    do: tuple[Call, ...]
    line: int


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    line: int
    say: tuple[str, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    expect: str | None = None  # "text" | "number" | "location"
    range: tuple[float, float] | None = None
    save: str | None = None
    next: tuple[Branch, ...] = ()
    on: dict[str, str] = field(default_factory=dict)
    do: tuple[Call, ...] = ()
    end: bool = False
    photo: str | None = None  # a registered picture sent before the messages
    venue: str | None = None  # a registered place sent on a map before the messages
    document: str | None = None  # a registered file sent before the messages

    @property
    def waits(self) -> bool:
        """Whether the step waits for the user; otherwise it moves on by itself."""
        return bool(self.buttons or self.expect or self.end)

    def button_data(self, dialog: str, index: int) -> str:
        return SEPARATOR.join((dialog, self.name, str(index)))


@dataclass(frozen=True, slots=True)
class DialogSpec:
    name: str
    file: str
    start: str
    states: dict[str, StateSpec]
    title: str = ""
    command: str | None = None
    description: str = ""
    intents: tuple[str, ...] = ()
    locations: bool = False  # a location shared outside any question opens it


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every dialog, the system messages and free-text understanding, validated together."""

    dialogs: dict[str, DialogSpec]
    messages: dict[str, str]
    understanding: Understanding = field(default_factory=lambda: Understanding(None, None))

    def by_command(self, command: str) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if d.command == command), None)

    def for_locations(self) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if d.locations), None)

    def by_intent(self, intent: str) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if intent in d.intents), None)

    def commands(self) -> list[tuple[str, str]]:
        """(command, description) for the command menu, /cancel included."""
        found = [(d.command, d.description or d.title) for d in self.dialogs.values()
                 if d.command]
        return sorted(found) + [("cancel", self.messages["cancel_command"])]
