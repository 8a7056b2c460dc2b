"""The per-event model the shared state machines run on, and the effects actions ask for.

A Turn lives for one event of one user: the engine attaches it to the dialog's machine
at the user's saved state, triggers, and detaches it. Actions never do I/O; they record
effects on the turn, and the engine applies them and saves everything in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.dialog.render import fill
from bot.dialog.spec import SOURCE_LANGUAGE, DialogSpec, Translation
from bot.events import Outgoing
from bot.storage.base import NewRecord, Record

if TYPE_CHECKING:
    from bot.nlu.words import Words


@dataclass(frozen=True, slots=True)
class FollowUpRequest:
    due: datetime
    dialog: str
    state: str


@dataclass(frozen=True, slots=True)
class StartDialog:
    name: str


@dataclass(frozen=True, slots=True)
class EndDialog:
    pass


@dataclass(frozen=True, slots=True)
class ResumeDialog:
    """Go back to the step a crisis interrupted."""


@dataclass(frozen=True, slots=True)
class CancelFollowUps:
    """Drop this dialog's pending follow-ups for this person (a fresh start makes old ones
    wrong); other dialogs' follow-ups stay."""

    dialog: str


@dataclass(frozen=True, slots=True)
class SetReminder:
    """Daily check-in at local_time in zone; local_time None turns it off."""

    local_time: str | None
    zone: str = ""


@dataclass(frozen=True, slots=True)
class ForgetMe:
    """Delete every row about the person (after this step's messages)."""


Effect = (FollowUpRequest | StartDialog | EndDialog | ResumeDialog | CancelFollowUps
          | SetReminder | ForgetMe)


@dataclass(eq=False)
class Turn:
    user_id: int
    dialog: DialogSpec
    answers: dict[str, Any]
    now: datetime
    replies: list[Outgoing] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    records: list[NewRecord] = field(default_factory=list)  # what tools keep (journal, urges…)
    # The person's saved records of a kind, newest first (the store's, read on demand).
    saved: Callable[[str], Sequence[NewRecord | Record]] = lambda kind: ()
    timezone: str | None = None  # the person's, once known
    language: str | None = None  # as their app reports it ("en-GB")
    words: Words | None = None  # everyday words in the person's language, for actions
    state: str = ""  # the state entered, then the state reached (DialogMachine.run)
    # The language the person reads ("es"); an action may change it (set_language), and the
    # steps entered after it speak the new one.
    locale: str = SOURCE_LANGUAGE
    languages: Callable[[str], Translation] | None = None  # the catalog's, by code

    @property
    def translation(self) -> Translation:
        if self.languages is None:
            raise LookupError("this Turn has no catalog languages (Turn(languages=...))")
        return self.languages(self.locale)

    def text(self, key: str, **values: Any) -> str:
        """A tool's sentence in the person's language (messages.yaml `texts:`), filled in;
        plain text: the message it goes into escapes it."""
        return fill(self.translation.texts[key], values, escape=False)

    def word_list(self, name: str) -> tuple[str, ...]:
        """A named list of the dialog's words (`words:`), in the person's language."""
        own = self.translation.words.get(self.dialog.name, {}) if self.languages else {}
        return own.get(name) or self.dialog.words.get(name, ())

    def records_of(self, kind: str) -> list[NewRecord | Record]:
        """The person's records of a kind, newest first: this step's, then the saved ones."""
        return [*(r for r in reversed(self.records) if r.kind == kind), *self.saved(kind)]
