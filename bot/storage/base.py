"""The storage protocols and the records that cross them. `Store` is all of them, for the
composition root; each part of the bot is given the one it needs (the engine's Steps,
facts' read-only Records, the scheduler's TimerRows, the App's Mailbox, admins' Reports).

The engine reads one user's record at the start of a step and hands back everything
the step changed as one StepWrites, which a store saves in a single transaction: a
crash leaves either the whole step or none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.events import Incoming, Outgoing
from bot.storage.outbox import Unsent


@dataclass
class UserRecord:
    user_id: int
    dialog: str | None = None  # the dialog in progress, if any
    state: str | None = None  # its current state
    answers: dict[str, Any] = field(default_factory=dict)
    language: str = "en"  # as their app reports it ("es-MX"): a hint to their country
    locale: str | None = None  # the language the bot speaks to them ("es"); None: not chosen yet
    timezone: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    known: bool = False  # False until the first step is saved


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A scheduled return to a dialog step (e.g. "how's the urge now?" in 15 minutes)."""

    id: int
    user_id: int
    due: datetime  # aware, UTC
    dialog: str
    state: str


@dataclass(frozen=True, slots=True)
class NewFollowUp:
    due: datetime
    dialog: str
    state: str


@dataclass(frozen=True, slots=True)
class Record:
    """One entry a tool keeps about a person (an urge, a day's check-in, an ABC, a barrier
    set up): all in one person-keyed table, so /export and /forget cover every tool."""

    kind: str  # "urge", "checkin", "abc", ...
    data: dict[str, Any]
    at: datetime  # when it was written (aware, UTC)
    key: str | None = None  # one record per (kind, key), e.g. a check-in per day


@dataclass(frozen=True)
class NewRecord:
    kind: str
    data: dict[str, Any]
    key: str | None = None  # with a key, it replaces the record of that key
    # ... or, given, makes one of the record already there and this one: merge(old, new).
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A daily check-in: local time and zone; when it is next due, in UTC."""

    user_id: int
    local_time: str  # "HH:MM"
    zone: str
    next_due: datetime


@dataclass(frozen=True, slots=True)
class ReminderChange:
    """Set (local_time, zone, next_due) or turn off (local_time None) the daily check-in."""

    local_time: str | None
    zone: str = ""
    next_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class Nudge:
    """A check-in nudge claimed for sending: to whom, and the occurrence it stands for."""

    user_id: int
    due: datetime


@dataclass
class StepWrites:
    """Everything one engine step changes for one user."""

    user: UserRecord
    set_answers: dict[str, Any] = field(default_factory=dict)
    removed_answers: set[str] = field(default_factory=set)
    records: list[NewRecord] = field(default_factory=list)  # the tools' entries
    new_followups: list[NewFollowUp] = field(default_factory=list)
    cancel_followups: bool = False  # drop every pending follow-up of the user
    done_followup: int | None = None  # the follow-up this step handled
    update_id: int | None = None  # the channel update this step handled
    cancel_dialogs: set[str] = field(default_factory=set)  # drop these dialogs' follow-ups
    reminder: ReminderChange | None = None
    forget: bool = False  # delete everything about the person instead of saving
    replies: list[Outgoing] = field(default_factory=list)  # to the outbox, until delivered
    delivered: list[int] = field(default_factory=list)  # outbox ids delivered meanwhile
    nudge_done: bool = False  # this step sent the claimed check-in nudge


@dataclass(frozen=True, slots=True)
class SavedStep:
    followups: list[FollowUp]  # the follow-ups the step created
    replies: list[Outgoing]  # its replies, each with its outbox_id


class Steps(Protocol):
    """One person's record in, one step's writes out: the engine's."""

    def load_user(self, user_id: int) -> UserRecord:
        """The user's record; a fresh, unsaved one for someone new."""
        ...

    def save_step(self, writes: StepWrites, now: datetime) -> SavedStep:
        """Save one step atomically, its replies into the outbox."""
        ...

    def was_handled(self, update_id: int) -> bool:
        """Whether a step for this channel update was saved already."""
        ...

    def drop_received(self, update_id: int) -> None:
        """Take an event out of the inbox without a step (its step failed)."""
        ...

    def followup(self, followup_id: int) -> FollowUp | None: ...

    def followups_of(self, user_id: int) -> list[FollowUp]:
        """One person's pending follow-ups, by due time."""
        ...


class Records(Protocol):
    """What facts read about a person: read-only."""

    def records(self, user_id: int, kind: str, limit: int | None = None,
                since_key: str | None = None) -> list[Record]:
        """The person's records of a kind, newest first: at most `limit`; only those
        whose key is `since_key` or after (check-ins keyed by day: from that day on)."""
        ...

    def reminder(self, user_id: int) -> Reminder | None: ...

    def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, as plain data (for /export)."""
        ...


class Mailbox(Protocol):
    """Events in (the inbox), replies out (the outbox), and who people are (the App's)."""

    def receive(self, events: list[Incoming], now: datetime) -> list[Incoming]:
        """Save received events (each with its update_id) to the inbox in one transaction;
        returns those new to it (not already there, nor handled). A step for an event
        removes it from the inbox."""
        ...

    def inbox(self) -> list[Incoming]:
        """Events received but not yet handled (after a crash), in the order received."""
        ...

    def mark_delivered(self, outbox_ids: list[int]) -> None:
        """Delete delivered (or undeliverable) replies from the outbox."""
        ...

    def unsent(self) -> list[Unsent]:
        """Replies saved but never confirmed delivered (a crash came between), oldest
        first."""
        ...

    def person(self, channel: str, external: str) -> int:
        """The id of the person a channel knows as `external` (a Telegram chat id, the
        terminal chat's user number); someone new gets a new id, never one used before."""
        ...

    def address(self, user_id: int) -> tuple[str, str] | None:
        """(channel, external id) of a person; None once they used /forget."""
        ...


class TimerRows(Protocol):
    """What is due: follow-ups and check-in nudges (bot.scheduler, bot.nudges)."""

    def pending_followups(self, until: datetime | None = None) -> list[FollowUp]:
        """Follow-ups not yet handled, due at or before `until` (all if None), by due time."""
        ...

    def next_followup_due(self, after: datetime) -> datetime | None:
        """When the first follow-up due after `after` is due (None: there is none)."""
        ...

    def next_nudge_due(self, after: datetime) -> datetime | None:
        """When the first active person's reminder due after `after` is due (None: none)."""
        ...

    def claim_nudges(self, now: datetime, grace: timedelta,
                     schedule: Callable[[Reminder, datetime], tuple[datetime, datetime]],
                     limit: int | None = None) -> list[Nudge]:
        """In one transaction: every active person's reminder due by `now` moves on to its
        next occurrence; those whose latest occurrence (`schedule` gives both) is within
        `grace` are returned (and remembered as claimed until the nudge's step is saved
        with `nudge_done`, or `nudge_sent`); the rest are
        skipped. At most `limit` reminders, the longest due first: a caller claims in
        chunks, so other work gets the database between them."""
        ...

    def claimed_nudges(self) -> list[Nudge]:
        """Nudges claimed but not yet confirmed sent (after a crash: send them now)."""
        ...

    def nudge_sent(self, user_id: int) -> None:
        """Drop a claim without a step (a nudge too late to send)."""
        ...


class Reports(Protocol):
    """Counts for admins, nothing personal."""

    def stats(self) -> dict[str, int]:
        """Aggregate counts, nothing personal (for admins' /stats)."""
        ...


class Store(Steps, Records, Mailbox, TimerRows, Reports, Protocol):
    """Everything, for the composition root (bot.app): each part of the bot is given only
    the protocol it needs."""

    def close(self) -> None: ...
