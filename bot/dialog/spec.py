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
MENU = "!"  # button data "!|dialog": a menu button, which opens that dialog
COMMANDS = "commands"  # the placeholder for every command and what it does, in a text
MENU_PLACE = 100  # the place in the menu of a dialog that does not give one
SOURCE_LANGUAGE = "en"  # the language the dialogs are written in; translations overlay them


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
    menu: bool = False  # its buttons start with the menu: a button per dialog in it

    @property
    def waits(self) -> bool:
        """Whether the step waits for the user; otherwise it moves on by itself."""
        return bool(self.buttons or self.menu or self.expect or self.end)

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
    # Named lists of words `says:` conditions listen for ({reply: no_call}), per language.
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Its place in the /help menu, which lists dialogs with a command by this number (then
    # by command); None: not in the menu (`menu: false`).
    menu: int | None = MENU_PLACE

    @property
    def in_menu(self) -> bool:
        return self.command is not None and self.menu is not None


@dataclass(frozen=True, slots=True)
class Translation:
    """What a person who chose a language reads and how they are understood: the source
    dialogs' texts (the source language's own) or a translation's overlay of them."""

    code: str  # "en", "es"
    messages: dict[str, str]  # the engine's system messages
    texts: dict[str, str]  # the tools' sentences ({helpline_open} ...), by key
    say: dict[tuple[str, str], tuple[str, ...]]  # (dialog, state) -> its messages
    labels: dict[tuple[str, str], tuple[str, ...]]  # (dialog, state) -> its buttons' labels
    menu: dict[str, tuple[str, str]]  # dialog -> (title, description)
    words: dict[str, dict[str, tuple[str, ...]]]  # dialog -> named word lists
    values: dict[str, str]  # stored source-language values as they read in this language
    understanding: Understanding = field(default_factory=lambda: Understanding(None, None))

    @classmethod
    def of_source(cls, code: str, dialogs: dict[str, DialogSpec], messages: dict[str, str],
                  texts: dict[str, str], understanding: Understanding) -> Translation:
        return cls(code, messages, texts,
                   say={(d.name, s.name): s.say for d in dialogs.values()
                        for s in d.states.values()},
                   labels={(d.name, s.name): tuple(b.label for b in s.buttons)
                           for d in dialogs.values() for s in d.states.values()},
                   menu={d.name: (d.title, d.description) for d in dialogs.values()},
                   words={d.name: d.words for d in dialogs.values()}, values={},
                   understanding=understanding)

    def commands(self, dialogs: dict[str, DialogSpec]) -> list[tuple[str, str]]:
        """(command, description) in this language, /cancel last: the dialogs of the /help
        menu in its order, then the others by command."""
        listed = sorted((d for d in dialogs.values() if d.command),
                        key=lambda d: (d.menu is None, d.menu or 0, d.command))
        return [(str(d.command), self.menu[d.name][1] or self.menu[d.name][0])
                for d in listed] + [("cancel", self.messages["cancel_command"])]


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every dialog, the system messages and free-text understanding, validated together."""

    dialogs: dict[str, DialogSpec]
    messages: dict[str, str]
    understanding: Understanding = field(default_factory=lambda: Understanding(None, None))
    texts: dict[str, str] = field(default_factory=dict)  # the tools' sentences
    source: str = SOURCE_LANGUAGE
    translations: dict[str, Translation] = field(default_factory=dict)  # the other languages
    # Every language a person can choose, the source's included.
    languages: dict[str, Translation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        own = Translation.of_source(self.source, self.dialogs, self.messages, self.texts,
                                    self.understanding)
        object.__setattr__(self, "languages", {self.source: own, **self.translations})

    def language(self, code: str | None) -> Translation:
        """The translation for a chosen language; the source for one the bot lacks."""
        return self.languages.get(code or "") or self.languages[self.source]

    def pick_language(self, reported: str | None) -> str:
        """The language to speak to someone whose app reports `reported` ("es-419",
        "pt-BR", None): its language if the bot has it, else the source language."""
        code = (reported or "").replace("_", "-").split("-")[0].lower()
        return code if code in self.languages else self.source

    def by_command(self, command: str) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if d.command == command), None)

    def for_locations(self) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if d.locations), None)

    def by_intent(self, intent: str) -> DialogSpec | None:
        return next((d for d in self.dialogs.values() if intent in d.intents), None)

    def menu(self) -> list[DialogSpec]:
        """The dialogs the /help menu lists, in its order."""
        return sorted((d for d in self.dialogs.values() if d.in_menu),
                      key=lambda d: (d.menu or 0, d.command or ""))

    def commands(self, language: str | None = None) -> list[tuple[str, str]]:
        """(command, description) for the command menu, /cancel included."""
        return self.language(language).commands(self.dialogs)
