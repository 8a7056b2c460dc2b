"""The engine: one event for one user in, the replies out. Knows nothing of any channel.

A step loads the user's record, runs the event through the dialog's shared state machine
(attach the user's Turn at its saved state, trigger, detach), follows what the step asks
for (another dialog, the end, steps that move on by themselves), and saves everything the
step changed in one transaction. If anything fails, nothing is saved and the user gets a
short apology: never a traceback.

Engine.handle is synchronous and not thread-safe: callers run it on one thread, one
event at a time per user (bot.dispatch does both).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.dialog.machine import (
    NEXT,
    START,
    DialogMachine,
    button_trigger,
    intent_trigger,
    timer_trigger,
)
from bot.dialog.registry import (
    DocumentFact,
    Fact,
    FactContext,
    Picture,
    Registry,
    VenueFact,
)
from bot.dialog.render import fill, to_html
from bot.dialog.spec import (
    BEGIN,
    CLARIFY,
    COMMAND_ARGS,
    CRISIS_DIALOG,
    INTENT_TEXT,
    NUDGE_DIALOG,
    SEPARATOR,
    Catalog,
    DialogSpec,
    StateSpec,
)
from bot.dialog.turn import (
    CancelFollowUps,
    EndDialog,
    FollowUpRequest,
    ForgetMe,
    RecordCheckin,
    ResumeDialog,
    SetReminder,
    StartDialog,
    Turn,
)
from bot.events import Button, Incoming, Kind, Outgoing
from bot.nlu.intents import Guess
from bot.reminders import next_due
from bot.storage.base import (
    CheckinEntry,
    FollowUp,
    NewFollowUp,
    ReminderChange,
    StepWrites,
    Store,
    UrgeEntry,
    UserRecord,
)
from bot.storage.outbox import Unsent

log = logging.getLogger(__name__)

MAX_MOVES = 50  # transitions in one step; more means dialogs that keep opening each other
_NUMBER = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(?:/\s*\d+)?\s*$")

PAUSED = "paused"  # in user.settings: the step a crisis interrupted, to go back to


class Timers(Protocol):
    """Whoever runs follow-ups when they fall due (bot.scheduler.FollowUpScheduler)."""

    def schedule(self, followup: FollowUp) -> None: ...


class DialogLoopError(RuntimeError):
    pass


@dataclass
class _Step:
    user: UserRecord
    now: datetime
    answers: dict[str, Any]
    replies: list[Outgoing] = field(default_factory=list)
    journal: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    followups: list[NewFollowUp] = field(default_factory=list)
    urges: list[UrgeEntry] = field(default_factory=list)
    cancel_dialogs: set[str] = field(default_factory=set)
    reminder: ReminderChange | None = None
    checkin: CheckinEntry | None = None
    forget: bool = False
    cancel_followups: bool = False
    done_followup: int | None = None
    update_id: int | None = None
    nudge_done: bool = False
    moves: int = 0

    def writes(self, before: dict[str, Any], delivered: list[int]) -> StepWrites:
        changed = {k: v for k, v in self.answers.items() if before.get(k, _MISSING) != v}
        return StepWrites(self.user, changed, set(before) - set(self.answers), self.journal,
                          self.followups, self.cancel_followups, self.done_followup,
                          self.update_id, self.urges, self.cancel_dialogs, self.reminder,
                          self.checkin, self.forget, self.replies, delivered,
                          self.nudge_done)


_MISSING = object()


class Engine:
    def __init__(self, catalog: Catalog, registry: Registry, store: Store, clock: Clock,
                 *, timers: Timers | None = None,
                 followup_grace: timedelta = timedelta(hours=1),
                 admins: frozenset[int] = frozenset()):
        self.catalog = catalog
        self.understanding = catalog.understanding
        self.store = store
        self.clock = clock
        self.facts: Mapping[str, Fact] = registry.facts
        self.pictures: Mapping[str, Picture] = registry.pictures
        self.venues: Mapping[str, VenueFact] = registry.venues
        self.documents: Mapping[str, DocumentFact] = registry.documents
        self.admins = admins
        self.timers = timers
        self.followup_grace = followup_grace
        self.messages = catalog.messages
        self._action_fns = {name: entry.fn for name, entry in registry.actions.items()}
        self.machines = {name: DialogMachine(spec, registry, self._enter)
                         for name, spec in catalog.dialogs.items()}
        self._delivered: deque[int] = deque()

    # -- the one entry point --------------------------------------------------------------

    def handle(self, event: Incoming) -> list[Outgoing]:
        now = self.clock.now()
        where = f"user {event.user_id}, {event.kind} event"
        try:
            if event.update_id is not None and self.store.was_handled(event.update_id):
                return []  # redelivered after a crash: its step is saved already
            user = self.store.load_user(event.user_id)
            where += f", at {user.dialog}:{user.state}"
            if event.kind != Kind.TIMER:
                user.active = True  # writing again undoes a block
            step = _Step(user, now, dict(user.answers), update_id=event.update_id,
                         nudge_done=event.kind == Kind.NUDGE)
            self._dispatch(step, event)
            delivered = self._take_delivered()
            try:
                saved = self.store.save_step(step.writes(user.answers, delivered), now)
            except BaseException:
                self._delivered.extend(delivered)  # still to be confirmed
                raise
        except Exception as exc:
            exc.add_note(where)
            # The user id and position only: message texts never go to the logs.
            log.exception("step failed (%s)", where)
            self._drop_received(event)
            return [Outgoing(self.messages["error"])]
        if self.timers:
            for followup in saved.followups:
                self.timers.schedule(followup)
        return saved.replies

    def _drop_received(self, event: Incoming) -> None:
        """A failed step's update leaves the inbox, or every restart would fail it again."""
        if event.update_id is None:
            return
        try:
            self.store.drop_received(event.update_id)
        except Exception:
            log.exception("could not drop update %s from the inbox", event.update_id)

    # -- the outbox ---------------------------------------------------------------------------

    def delivered(self, outbox_ids: Iterable[int]) -> None:
        """Replies the channel has delivered (any thread). The confirmation rides on the
        next step's transaction, or on flush_delivered when no step comes first: either
        is a few milliseconds away, which is the only window in which a crash can make a
        reply go out twice."""
        self._delivered.extend(outbox_ids)

    def flush_delivered(self) -> None:
        """Confirm deliveries no step has carried yet (on the engine thread)."""
        delivered = self._take_delivered()
        if delivered:
            try:
                self.store.mark_delivered(delivered)
            except BaseException:
                self._delivered.extend(delivered)
                raise

    def unsent(self, max_age: timedelta, user_id: int | None = None) -> list[Unsent]:
        """Replies a crash kept from being delivered (to everyone, or to one user), to send
        now; those older than max_age are out of context by now, and are dropped instead."""
        now = self.clock.now()
        pending = [u for u in self.store.unsent() if user_id in (None, u.user_id)]
        fresh = [u for u in pending if now - u.created_at <= max_age]
        stale = [u.reply.outbox_id for u in pending if now - u.created_at > max_age]
        if stale:
            self.store.mark_delivered([i for i in stale if i is not None])
        return fresh

    def _take_delivered(self) -> list[int]:
        taken = []
        with contextlib.suppress(IndexError):  # deque.popleft is atomic across threads
            while True:
                taken.append(self._delivered.popleft())
        return taken

    def resume(self, user_id: int) -> list[Outgoing]:
        """Where a returning user left off (read-only): the current step again, if any."""
        user = self.store.load_user(user_id)
        current = self._current(user)
        if current is None:
            return []
        return [Outgoing(self.messages["resumed"]),
                *self._render(current[0], current[1], user.answers, user_id, last_only=True)]

    # -- events -----------------------------------------------------------------------------

    def _dispatch(self, step: _Step, event: Incoming) -> None:
        match event.kind:
            case Kind.COMMAND:
                # What followed the command ("/reminder 20:30 Europe/London") is an answer
                # the dialog it opens can use.
                step.answers[COMMAND_ARGS] = event.text
                step.answers[INTENT_TEXT] = ""
                self._command(step, event.command)
            case Kind.NUDGE:
                if step.user.active and NUDGE_DIALOG in self.catalog.dialogs:
                    self._start(step, NUDGE_DIALOG)
            case Kind.BUTTON:
                self._button(step, event.data)
            case Kind.TEXT:
                self._text(step, event.text)
            case Kind.LOCATION:
                self._location(step, event)
            case Kind.TIMER:
                self._timer(step, event.timer_id)
            case Kind.UNSUPPORTED | Kind.EDITED:
                self._say(step, str(event.kind))

    def _command(self, step: _Step, command: str) -> None:
        if command == "cancel":
            if step.user.dialog is None:
                self._say(step, "nothing_to_cancel")
                return
            step.user.dialog = step.user.state = None
            step.user.settings.pop(PAUSED, None)
            step.cancel_followups = True
            self._say(step, "cancelled")
            return
        if command == "stats" and step.user.user_id in self.admins:
            # Aggregate counts only; not in the command menu, and unknown to everyone else.
            counts = self.store.stats()
            lines = "\n".join(f"{name}: {number}" for name, number in counts.items())
            step.replies.append(Outgoing(to_html(lines, {})))
            return
        dialog = self.catalog.by_command(command)
        if dialog is None:
            self._say(step, "unknown_command", command=command)
            return
        self._start(step, dialog.name)

    def _button(self, step: _Step, data: str) -> None:
        parts = data.split(SEPARATOR)
        if parts[0] == CLARIFY and len(parts) == 2:
            # An answer to "did you mean ...?": the same as typing a clear request.
            if not self._route_intent(step, parts[1]):
                self._say(step, "fallback")
            return
        current = self._current(step.user)
        if current and len(parts) == 3 and parts[:2] == [current[0].name, current[1].name]:
            state = current[1]
            index = int(parts[2]) if parts[2].isdigit() else -1
            if 0 <= index < len(state.buttons):
                self._press(step, current[0], state, index)
                return
        # An old message's button, or data we never sent: never act on it.
        self._say(step, "stale_button")
        self._show_current(step)

    def _press(self, step: _Step, dialog: DialogSpec, state: StateSpec, index: int) -> None:
        if state.save:
            step.answers[state.save] = state.buttons[index].value
        self._fire(step, dialog, state.name, button_trigger(index))

    def _text(self, step: _Step, text: str) -> None:
        crisis = self.understanding.crisis(text)
        if crisis and CRISIS_DIALOG in self.catalog.dialogs:
            self._crisis(step, crisis)
            return
        current = self._current(step.user)
        guess: Guess | None = None  # the model costs ~0.1 ms: still, ask it only if needed
        if current:
            dialog, state = current
            index = self._typed_choice(state, text, step.answers)
            if index is not None:
                self._press(step, dialog, state, index)
                return
            number = _parse_number(text) if state.expect == "number" else None
            assert state.range is not None or state.expect != "number"  # the validator's rule
            if number is not None and state.range and state.range[0] <= number <= state.range[1]:
                self._answer(step, dialog, state, number)
                return
            # Nothing typed in the crisis dialog leaves it by itself ("help" there is an answer).
            switching = False
            if state.expect is not None and dialog.name != CRISIS_DIALOG and \
                    self.understanding.may_switch(text):
                guess = self.understanding.intent(text)
                switching = self.understanding.switches(text, guess)
            # The answer is the answer; a step asking for a location takes a typed place too.
            if state.expect in ("text", "location") and text.strip() and not switching:
                self._answer(step, dialog, state, text.strip())
                return
            if state.expect == "number" and not switching:
                low, high = state.range or (0, 0)
                self._say(step, "invalid_number", min=_num(low), max=_num(high))
                return
        guess = guess or self.understanding.intent(text)
        # The words that opened a dialog ("meetings in Leeds") are an answer it can use.
        step.answers[INTENT_TEXT] = text
        if guess.intent and self._route_intent(step, guess.intent):
            return
        if guess.alternatives:
            self._clarify(step, guess.alternatives)
            return
        if current and current[1].expect == "location":
            self._say(step, "expect_location")
        elif current and current[1].buttons:
            self._say(step, "choose")
            self._show_current(step)
        else:
            self._say(step, "fallback")

    def _route_intent(self, step: _Step, intent: str) -> bool:
        """Act on a recognised intent; False when it leads nowhere from here."""
        current = self._current(step.user)
        if current and intent in current[1].on:
            self._fire(step, current[0], current[1].name, intent_trigger(intent))
            return True
        if intent == "cancel":
            self._command(step, "cancel")
            return True
        opened = self.catalog.by_intent(intent)
        if opened:
            self._start(step, opened.name)
            return True
        reply = self.understanding.reply(intent)
        if reply:
            step.replies.append(Outgoing(to_html(reply, {})))
            self._show_current(step, quiet=True)
            return True
        return False

    def _clarify(self, step: _Step, intents: tuple[str, ...]) -> None:
        """Not sure what was meant: ask, with a button for each guess."""
        buttons = [Button(self.understanding.label(i), SEPARATOR.join((CLARIFY, i)))
                   for i in intents]
        buttons.append(Button(self.messages["clarify_other"], SEPARATOR.join((CLARIFY, ""))))
        step.replies.append(Outgoing(to_html(self.messages["clarify"], {}), tuple(buttons)))

    def _crisis(self, step: _Step, kind: str) -> None:
        """Interrupt whatever is going on; remember it so the person can come back to it."""
        if step.user.dialog and step.user.dialog != CRISIS_DIALOG:
            step.user.settings[PAUSED] = [step.user.dialog, step.user.state]
        elif step.user.dialog is None:
            step.user.settings.pop(PAUSED, None)  # nothing was interrupted this time
        step.answers["crisis.kind"] = kind
        log.info("crisis signs (%s) from user %s", kind, step.user.user_id)
        self._start(step, CRISIS_DIALOG)

    @staticmethod
    def _typed_choice(state: StateSpec, text: str, answers: dict[str, Any]) -> int | None:
        """A button chosen by typing its words, or its number where no number is asked."""
        typed = text.strip().casefold()
        for i, button in enumerate(state.buttons):
            if fill(button.label, answers, escape=False).casefold() == typed:
                return i
        if state.expect != "number" and typed.isdigit() and 1 <= int(typed) <= len(state.buttons):
            return int(typed) - 1
        return None

    def _location(self, step: _Step, event: Incoming) -> None:
        current = self._current(step.user)
        if current and current[1].expect == "location" and event.location:
            loc = event.location
            self._answer(step, current[0], current[1],
                         {"latitude": loc.latitude, "longitude": loc.longitude})
        elif current and current[1].expect:
            self._say(step, "expect_text")
        else:
            self._say(step, "fallback")

    def _timer(self, step: _Step, timer_id: int | None) -> None:
        followup = self.store.followup(timer_id) if timer_id is not None else None
        if followup is None or followup.user_id != step.user.user_id:
            return  # handled or cancelled already: a late or repeated job does nothing
        step.done_followup = followup.id
        if not step.user.active:
            return  # they blocked the bot: no nudges until they write again
        if step.now - followup.due > self.followup_grace:
            # "It's been 15 minutes" hours later would be wrong: skip it.
            log.info("follow-up %s for user %s skipped: %s late", followup.id,
                     followup.user_id, step.now - followup.due)
            return
        dialog = self.catalog.dialogs.get(followup.dialog)
        if dialog is None or followup.state not in dialog.states:
            log.warning("follow-up %s points at %s:%s, which no longer exists",
                        followup.id, followup.dialog, followup.state)
            return
        here = step.user.state if step.user.dialog == dialog.name else BEGIN
        self._fire(step, dialog, here or BEGIN, timer_trigger(followup.state))

    # -- moving through dialogs ---------------------------------------------------------

    def _answer(self, step: _Step, dialog: DialogSpec, state: StateSpec, value: Any) -> None:
        if state.save:
            step.answers[state.save] = value
        self._fire(step, dialog, state.name, NEXT)

    def _start(self, step: _Step, name: str) -> None:
        self._fire(step, self.catalog.dialogs[name], BEGIN, START)

    def _fire(self, step: _Step, dialog: DialogSpec, state: str, trigger: str) -> None:
        step.moves += 1
        if step.moves > MAX_MOVES:
            raise DialogLoopError(f"more than {MAX_MOVES} moves in one step at "
                                  f"{dialog.name}:{state}")
        turn = Turn(step.user.user_id, dialog, step.answers, step.now, step.replies,
                    journal=step.journal, urges=step.urges, timezone=step.user.timezone)
        if not self.machines[dialog.name].run(turn, state, trigger):
            raise RuntimeError(f"no branch of {trigger!r} applies at {dialog.name}:{state}")
        step.user.dialog, step.user.state = dialog.name, turn.state
        arrived = dialog.states[turn.state]
        for effect in turn.effects:
            if isinstance(effect, CancelFollowUps):
                step.cancel_dialogs.add(effect.dialog)
                step.followups = [f for f in step.followups if f.dialog != effect.dialog]
            if isinstance(effect, FollowUpRequest):
                step.followups.append(NewFollowUp(effect.due, effect.dialog, effect.state))
            if isinstance(effect, SetReminder):
                step.reminder = self._reminder_change(step, effect)
            if isinstance(effect, RecordCheckin):
                step.checkin = effect.entry
            if isinstance(effect, ForgetMe):
                step.forget = True
        starts = [e.name for e in turn.effects if isinstance(e, StartDialog)]
        resume = any(isinstance(e, ResumeDialog) for e in turn.effects)
        if arrived.end or starts or resume or any(isinstance(e, EndDialog) for e in turn.effects):
            step.user.dialog = step.user.state = None
            if resume:
                self._resume(step)
            elif starts:
                self._start(step, starts[-1])
        elif not arrived.waits:
            self._fire(step, dialog, arrived.name, NEXT)

    @staticmethod
    def _reminder_change(step: _Step, effect: SetReminder) -> ReminderChange:
        if effect.local_time is None:
            return ReminderChange(None)
        step.user.timezone = effect.zone  # a reminder's zone is the person's zone
        return ReminderChange(effect.local_time, effect.zone,
                              next_due(effect.local_time, effect.zone, step.now))

    def _resume(self, step: _Step) -> None:
        """Back to the step a crisis interrupted, if there was one."""
        paused = step.user.settings.pop(PAUSED, None)
        if paused:
            step.user.dialog, step.user.state = paused
            if self._current(step.user) is None:  # removed since: nothing to go back to
                step.user.dialog = step.user.state = None
        self._show_current(step, quiet=True)

    def _enter(self, turn: Turn, state: StateSpec) -> None:
        """Called by transitions on entering a state: its actions, then its messages."""
        for call in state.do:
            self._action_fns[call.name](turn, call.args)
        turn.replies.extend(self._render(turn.dialog, state, turn.answers, turn.user_id))

    # -- replies --------------------------------------------------------------------------

    def _render(self, dialog: DialogSpec, state: StateSpec, answers: dict[str, Any],
                user_id: int, last_only: bool = False) -> list[Outgoing]:
        values = self._values(answers, state.say, user_id)
        texts = [to_html(t, values) for t in state.say]
        context = FactContext(self.store, user_id, self.clock.now(), answers)
        pictures = [Outgoing(photo=self.pictures[state.photo](context))] \
            if state.photo and not last_only else []
        venue = self.venues[state.venue](context) if state.venue and not last_only else None
        if venue is not None:
            pictures.append(Outgoing(venue=venue))
        if state.document and not last_only:
            pictures.append(Outgoing(document=self.documents[state.document](context)))
        if last_only:
            texts = texts[-1:]
        buttons = tuple(Button(fill(b.label, answers, escape=False), state.button_data(
            dialog.name, i)) for i, b in enumerate(state.buttons))
        if not texts:
            return pictures
        return pictures + [Outgoing(t) for t in texts[:-1]] + [
            Outgoing(texts[-1], buttons, expect=state.expect)]

    def _show_current(self, step: _Step, quiet: bool = False) -> None:
        """The current step again (its last message); with nothing going on, the fallback
        message unless `quiet`."""
        current = self._current(step.user)
        if current:
            step.replies.extend(self._render(*current, step.answers, step.user.user_id,
                                             last_only=True))
        elif not quiet:
            self._say(step, "fallback")

    def _values(self, answers: dict[str, Any], texts: tuple[str, ...],
                user_id: int) -> dict[str, Any]:
        """Answers plus the facts these texts use (computed only when used)."""
        used = [name for name in self.facts if any(f"{{{name}" in t for t in texts)]
        if not used:
            return answers
        context = FactContext(self.store, user_id, self.clock.now(), answers)
        return {**answers, **{name: self.facts[name](context) for name in used}}

    def _say(self, step: _Step, key: str, **values: Any) -> None:
        step.replies.append(Outgoing(to_html(self.messages[key], values)))

    def _current(self, user: UserRecord) -> tuple[DialogSpec, StateSpec] | None:
        dialog = self.catalog.dialogs.get(user.dialog or "")
        if dialog is None or user.state not in dialog.states:
            return None  # no dialog, or one an author has since removed
        return dialog, dialog.states[user.state]


def _parse_number(text: str) -> float | int | None:
    match = _NUMBER.match(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return int(value) if value.is_integer() else value


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
