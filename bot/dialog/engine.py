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

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    COMMANDS,
    CONTINUE,
    CRISIS_DIALOG,
    INTENT_NAME,
    INTENT_TEXT,
    MENU,
    NUDGE_DIALOG,
    SEPARATOR,
    SHARED_PLACE,
    Catalog,
    DialogSpec,
    StateSpec,
    Translation,
)
from bot.dialog.turn import (
    CancelFollowUps,
    EndDialog,
    FollowUpRequest,
    ForgetMe,
    ResumeDialog,
    SetReminder,
    StartDialog,
    Turn,
)
from bot.events import Button, Drawing, Incoming, Kind, Outgoing, Priority
from bot.nlu.crisis import RISK, Context, Signal
from bot.nlu.intents import Guess
from bot.nlu.normalize import normalize
from bot.nlu.understanding import Understanding
from bot.nlu.words import Words
from bot.reminders import next_due
from bot.storage.base import (
    FollowUp,
    NewFollowUp,
    NewRecord,
    ReminderChange,
    StepWrites,
    Store,
    UserRecord,
)
from bot.storage.outbox import Deliveries

log = logging.getLogger(__name__)

MAX_MOVES = 50  # transitions in one step; more means dialogs that keep opening each other
_RANGE = re.compile(r"^\s*\d+\s*[-–]\s*\d+\s*$")  # a button like "0-3"

# In user.settings:
PAUSED = "paused"  # the step a crisis interrupted, to go back to: [dialog, state, when]
SAFETY = "safety"  # {"since": when a sign came last, "means": [name, when named]}
MISSES = "misses"  # replies in a row that were not the answer a step waits for
CLARIFYING = "clarifying"  # the intents just offered with "did you mean ...?"
# Kinds that need their own first aid even in the middle of the crisis conversation.
FIRST_AID = frozenset({"overdose", "medical", "harm_others", "abuse"})
MEANS_NAMED = "means"  # crisis.signal for a message naming a means of harm, and no more
MEANS_KEPT = timedelta(hours=2)  # a means named outside a crisis counts this long
# Every step runs on the one engine thread, so a slow step is everyone's wait: each must
# take less than this on a developer's machine once the bot serves (tests/test_step_budget.py
# times the heavy ones); one ten times over it in production is logged.
STEP_BUDGET = 0.005
UNPROMPTED = {Kind.TIMER: Priority.FOLLOW_UP, Kind.NUDGE: Priority.NUDGE}


class Timers(Protocol):
    """Whoever runs follow-ups when they fall due (bot.scheduler.Timers)."""

    def schedule(self, followup: FollowUp) -> None: ...


class DialogLoopError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class _Choice:
    """A button of the current step as the person sees it: the menu's, then its own."""

    label: str  # in the person's language, filled in
    source: str  # the same in the dialogs' own language
    data: str
    value: str = ""  # what an own button saves


@dataclass
class _Step:
    user: UserRecord
    now: datetime
    answers: dict[str, Any]
    lang: Translation  # the language the person reads, and is understood in
    replies: list[Outgoing] = field(default_factory=list)
    records: list[NewRecord] = field(default_factory=list)
    followups: list[NewFollowUp] = field(default_factory=list)
    cancel_dialogs: set[str] = field(default_factory=set)
    reminder: ReminderChange | None = None
    forget: bool = False
    cancel_followups: bool = False
    done_followup: int | None = None
    update_id: int | None = None
    nudge_done: bool = False
    moves: int = 0

    @property
    def messages(self) -> dict[str, str]:
        return self.lang.messages

    @property
    def understanding(self) -> Understanding:
        return self.lang.understanding

    @property
    def words(self) -> Words:
        return self.lang.understanding.words

    def writes(self, before: dict[str, Any], delivered: list[int]) -> StepWrites:
        changed = {k: v for k, v in self.answers.items() if before.get(k, _MISSING) != v}
        return StepWrites(
            self.user, set_answers=changed, removed_answers=set(before) - set(self.answers),
            records=self.records, new_followups=self.followups,
            cancel_followups=self.cancel_followups, done_followup=self.done_followup,
            update_id=self.update_id, cancel_dialogs=self.cancel_dialogs,
            reminder=self.reminder, forget=self.forget, replies=self.replies,
            delivered=delivered, nudge_done=self.nudge_done)


_MISSING = object()


class Engine:
    def __init__(self, catalog: Catalog, registry: Registry, store: Store, clock: Clock,
                 *, timers: Timers | None = None,
                 followup_grace: timedelta = timedelta(hours=1),
                 careful: timedelta = timedelta(hours=24),
                 admins: frozenset[int] = frozenset(),
                 deliveries: Deliveries | None = None):
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.facts: Mapping[str, Fact] = registry.facts
        self.pictures: Mapping[str, Picture] = registry.pictures
        self.venues: Mapping[str, VenueFact] = registry.venues
        self.documents: Mapping[str, DocumentFact] = registry.documents
        self.admins = admins
        self.timers = timers
        self.followup_grace = followup_grace
        self.careful = careful  # how long after a sign of risk the bot stays more careful
        self._action_fns = {name: entry.fn for name, entry in registry.actions.items()}
        self.machines = {name: DialogMachine(spec, registry, self._enter)
                         for name, spec in catalog.dialogs.items()}
        # Deliveries the next step's transaction confirms (shared with the dispatcher).
        self.deliveries = deliveries or Deliveries(store, clock.now)

    # -- the one entry point --------------------------------------------------------------

    def handle(self, event: Incoming) -> list[Outgoing]:
        started = time.perf_counter()
        replies = self._handle(event)
        took = time.perf_counter() - started
        if took > 10 * STEP_BUDGET:
            log.warning("a step took %.0f ms (budget %.0f ms): user %s, %s event",
                        took * 1000, STEP_BUDGET * 1000, event.user_id, event.kind)
        return replies

    def _handle(self, event: Incoming) -> list[Outgoing]:
        now = self.clock.now()
        where = f"user {event.user_id}, {event.kind} event"
        lang = self.catalog.language(None)
        try:
            if event.update_id is not None and self.store.was_handled(event.update_id):
                return []  # redelivered after a crash: its step is saved already
            user = self.store.load_user(event.user_id)
            if event.kind is Kind.BLOCKED and not user.known:
                return []  # nothing is kept about someone the bot never heard from
            where += f", at {user.dialog}:{user.state}"
            # A block is a step of its own, under the person's lock: no step in flight can
            # overwrite it with the `active` it loaded before. Writing again undoes it;
            # what the bot itself starts (a nudge, a follow-up) never does.
            if event.kind is Kind.BLOCKED:
                user.active = False
            elif event.kind not in (Kind.TIMER, Kind.NUDGE):
                user.active = True
            if event.language:
                user.language = event.language
            if user.locale is None:  # first contact: the language their app is in, if we have it
                user.locale = self.catalog.pick_language(event.language)
            lang = self.catalog.language(user.locale)
            step = _Step(user, now, dict(user.answers), lang, update_id=event.update_id,
                         nudge_done=event.kind == Kind.NUDGE)
            self._dispatch(step, event)
            if event.kind in UNPROMPTED:  # the bot writes first: after those who wrote
                step.replies[:] = [replace(r, priority=UNPROMPTED[event.kind])
                                   for r in step.replies]
            if user.dialog == CRISIS_DIALOG:
                self._in_crisis(step)
            delivered = self.deliveries.take()
            try:
                saved = self.store.save_step(step.writes(user.answers, delivered), now)
            except BaseException:
                self.deliveries.give_back(delivered)
                raise
        except Exception as exc:
            exc.add_note(where)
            # The user id and position only: message texts never go to the logs.
            log.exception("step failed (%s)", where)
            self._drop_received(event)
            return [Outgoing(lang.messages["error"])]
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

    def draw(self, reply: Outgoing) -> Outgoing:
        """The reply with its picture drawn (thread-safe; the dispatcher calls it on a
        thread of its own, never the engine's)."""
        if reply.drawing is None:
            return reply
        picture = self.pictures[reply.drawing.picture]
        return replace(reply, photo=picture.draw(json.loads(reply.drawing.data)), drawing=None)

    def resume(self, user_id: int) -> list[Outgoing]:
        """Where a returning user left off (read-only): the current step again, if any."""
        user = self.store.load_user(user_id)
        current = self._current(user)
        if current is None:
            return []
        lang = self.catalog.language(user.locale)
        return [Outgoing(lang.messages["resumed"]),
                *self._render(current[0], current[1], self._context(user, user.answers, lang),
                              last_only=True)]

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
                # Never "time for your check-in" in the middle of a crisis conversation.
                if step.user.active and NUDGE_DIALOG in self.catalog.dialogs and \
                        not self._in_crisis_conversation(step):
                    self._start(step, NUDGE_DIALOG)
            case Kind.BUTTON:
                self._button(step, event.data)
            case Kind.TEXT:
                self._text(step, event.text)
            case Kind.LOCATION:
                self._location(step, event)
            case Kind.TIMER:
                self._timer(step, event.timer_id)
            case Kind.BLOCKED:
                pass  # nothing to say to someone who cannot receive it
            case Kind.UNSUPPORTED | Kind.EDITED:
                self._say(step, str(event.kind))

    def _command(self, step: _Step, command: str) -> None:
        if command == "cancel":
            # Check-backs the person asked for after a crisis stay; every other promise to
            # come back ("I'll check on the urge in 15 minutes") goes with what is stopped.
            pending = {f.dialog for f in self.store.followups_of(step.user.user_id)
                       if f.dialog != CRISIS_DIALOG}
            if step.user.dialog is None and not pending:
                self._say(step, "nothing_to_cancel")
                return
            step.user.dialog = step.user.state = None
            step.user.settings.pop(PAUSED, None)
            step.user.settings.pop(MISSES, None)
            step.cancel_dialogs |= pending
            self._say(step, "cancelled_followups" if pending else "cancelled")
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
        current = self._current(step.user)
        if parts[0] == CLARIFY and len(parts) == 2:
            if parts[1] == CONTINUE:
                step.user.settings.pop(MISSES, None)
                if current:
                    self._show_current(step)
                else:
                    self._say(step, "say_more")
                return
            # An answer to "did you mean ...?": the same as typing a clear request.
            if not self._route_intent(step, parts[1]):
                self._say(step, "fallback" if current is None else "say_more")
            return
        opened = self.catalog.dialogs.get(parts[1]) if len(parts) == 2 else None
        if parts[0] == MENU and opened is not None and opened.in_menu:
            step.user.settings.pop(MISSES, None)  # a /help menu button, even an old one
            self._start(step, opened.name)
            return
        if current and len(parts) == 3 and parts[:2] == [current[0].name, current[1].name]:
            state = current[1]
            index = int(parts[2]) if parts[2].isdigit() else -1
            if 0 <= index < len(state.buttons):
                self._press(step, current[0], state, index)
                return
            # "3, the number" after "did you mean 3 or the third button?"
            value = step.words.number(parts[2][1:]) if parts[2].startswith("=") else None
            if value is not None and state.range and state.range[0] <= value <= state.range[1]:
                self._answer(step, current[0], state, _int_if_whole(value))
                return
        # An old message's button, or data we never sent: never act on it.
        self._say(step, "stale_button")
        self._show_current(step)

    def _press(self, step: _Step, dialog: DialogSpec, state: StateSpec, index: int) -> None:
        step.user.settings.pop(MISSES, None)
        if state.save:
            step.answers[state.save] = state.buttons[index].value
        self._fire(step, dialog, state.name, button_trigger(index))

    def _text(self, step: _Step, text: str) -> None:
        current = self._current(step.user)
        signal = self._safety(step, text, answering=bool(
            current and current[1].expect in ("text", "location")))
        in_crisis = self._in_crisis_conversation(step)
        if signal.kind and not signal.weak and CRISIS_DIALOG in self.catalog.dialogs:
            # Inside the crisis conversation a sign is an answer to the step (its branches
            # read crisis.signal), unless it needs first aid of its own.
            new_first_aid = signal.kind in FIRST_AID and \
                signal.kind != step.answers.get("crisis.kind")
            if not in_crisis or new_first_aid:
                self._crisis(step, signal.kind)
                return
        if in_crisis:  # the weak signs are for outside it: here they would misread "them"
            kind = "" if signal.weak else signal.kind or ""
            # A means named now ("my tablets are here") is for making the surroundings safer.
            if signal.means and kind in ("", RISK):
                kind = MEANS_NAMED
            elif kind not in ("", RISK) and step.answers.get("crisis.kind") == RISK:
                step.answers["crisis.kind"] = kind  # asked about a possible sign: it is one
            step.answers["crisis.signal"] = kind
        offered = step.user.settings.pop(CLARIFYING, None)
        if offered and self._typed_clarification(step, text, offered):
            return
        guess: Guess | None = None  # the model costs ~0.1 ms: still, ask it only if needed
        if current:
            dialog, state = current
            chosen = self._typed_choice(step, dialog, state, text)
            if chosen is not None:
                self._button(step, chosen)
                return
            number = step.words.number(text) if state.expect == "number" else None
            assert state.range is not None or state.expect != "number"  # the validator's rule
            if number is not None and state.range and state.range[0] <= number <= state.range[1]:
                if self._could_be_a_button(state, number):  # not on a menu: ranges only
                    self._which_one(step, dialog, state, int(number))
                else:
                    self._answer(step, dialog, state, _int_if_whole(number))
                return
            if number is not None and state.range:  # a number, just not in the range
                low, high = state.range
                self._say(step, "invalid_number", min=_num(low), max=_num(high))
                return
            # "No, I said I didn't" and "what do you mean?" are never saved as the answer
            # (only these plain ones: an answer may well start with "when" or "how").
            if state.expect in ("text", "location") and not in_crisis and \
                    (step.words.corrects(text) or step.words.puzzled(text)):
                self._off_track(step, text)
                return
            # "idk what do i even say" at a step with buttons: help with this step, before
            # any guess at what else it might mean (it read as "help" and lost the step).
            if not in_crisis and (step.words.only_unsure(text) or (
                    state.expect not in ("text", "location") and step.words.unsure_of(text))):
                self._off_track(step, text)
                return
            # Nothing typed in the crisis conversation leaves it ("help" there is an answer).
            switching = False
            if state.expect is not None and not in_crisis and step.understanding.may_switch(text):
                guess = step.understanding.intent(text)
                switching = step.understanding.switches(text, guess)
            # The answer is the answer (a step asking for a location takes a typed place too).
            if state.expect in ("text", "location") and text.strip() and not switching:
                self._answer(step, dialog, state, text.strip())
                return
        if signal.weak and not in_crisis and CRISIS_DIALOG in self.catalog.dialogs:
            # Soon after a sign of risk, an ambiguous message gets the question, not a tool.
            self._crisis(step, RISK)
            return
        guess = guess or step.understanding.intent(text)
        # The words that opened a dialog ("meetings in Leeds") are an answer it can use.
        step.answers[INTENT_TEXT] = text
        if current and guess.intent and guess.confidence < step.understanding.switch and \
                not step.understanding.reply(guess.intent) and guess.intent not in current[1].on:
            # Leaving an exercise halfway on a fair guess ("back to the tools" read as
            # "help") loses the person's place: ask, with "something else" to carry on.
            self._off_track(step, text, (guess.intent,))
            return
        if guess.intent and self._route_intent(step, guess.intent):
            return
        if current:
            self._off_track(step, text, guess.alternatives)
        elif guess.alternatives:
            self._clarify(step, guess.alternatives)
        elif step.words.yes_or_no(text) == "yes":
            self._say(step, "acknowledged")  # "ok", "👍": nothing to do, nothing wrong
        else:
            self._say(step, "fallback")

    def _typed_clarification(self, step: _Step, text: str, offered: list[str]) -> bool:
        """"2" or "something else" typed after "did you mean ...?": as if tapped."""
        typed = normalize(text)
        labels = [normalize(step.understanding.label(i) if i else step.messages["clarify_other"])
                  for i in offered]
        chosen = labels.index(typed) if typed in labels else \
            int(typed) - 1 if typed.isdigit() and 1 <= int(typed) <= len(offered) else None
        if chosen is None:
            return False
        self._button(step, SEPARATOR.join((CLARIFY, offered[chosen])))
        return True

    def _off_track(self, step: _Step, text: str, guesses: tuple[str, ...] = ()) -> None:
        """A message at a prompt that is not its answer: a useful reply, never a bare
        "not understood". Twice in a row: the menu, and how to stop."""
        current = self._current(step.user)
        assert current is not None
        dialog, state = current
        misses = int(step.user.settings.get(MISSES, 0)) + 1
        if misses >= 2 and "help" in self.catalog.dialogs and dialog.name != "help":
            step.user.settings.pop(MISSES, None)
            self._say(step, "lost")
            self._start(step, "help")
            return
        step.user.settings[MISSES] = misses
        stop_or_go_on = (Button(step.messages["stop_this"], SEPARATOR.join((CLARIFY, "cancel"))),
                         Button(step.messages["carry_on"], SEPARATOR.join((CLARIFY, CONTINUE))))
        if step.words.corrects(text):
            step.replies.append(Outgoing(to_html(step.messages["corrected"], {}), stop_or_go_on))
        elif guesses:
            self._clarify(step, guesses)
        elif step.words.unsure_of(text) or step.words.puzzled(text):
            self._say(step, "unsure")
            self._show_current(step)
        elif self._asks_back(step, text):
            step.replies.append(Outgoing(to_html(step.messages["asked"], {}), stop_or_go_on))
        elif state.expect == "number":
            low, high = state.range or (0, 0)
            self._say(step, "invalid_number", min=_num(low), max=_num(high))
        elif state.expect == "location":
            self._say(step, "expect_location")
        else:
            self._say(step, "choose")
            self._show_current(step)

    def _asks_back(self, step: _Step, text: str) -> bool:
        """A short question to the bot ("what do you mean?"), not an answer with a '?'."""
        return len(text.split()) <= 8 and step.words.asks(text)

    @staticmethod
    def _could_be_a_button(state: StateSpec, number: float) -> bool:
        """On range buttons (0-3, 4-6, 7-10) a typed "3" may be the third button."""
        return bool(state.buttons) and number == int(number) and \
            1 <= number <= len(state.buttons) and \
            all(_RANGE.match(b.label) for b in state.buttons)

    def _which_one(self, step: _Step, dialog: DialogSpec, state: StateSpec, number: int) -> None:
        chosen = self._choices(step.lang, dialog, state, step.answers)[number - 1]
        label = chosen.label
        buttons = (Button(str(number), state.button_data(dialog.name, 0)[:-1] + f"={number}"),
                   Button(label, chosen.data))
        step.replies.append(Outgoing(to_html(step.messages["which_number"],
                                             {"number": number, "button": label}), buttons))

    # -- safety ---------------------------------------------------------------------------

    def _safety(self, step: _Step, text: str, answering: bool) -> Signal:
        """Both safety nets on this message, with what the person said a little earlier;
        remembers this message's signs for the next ones."""
        memory = step.user.settings.get(SAFETY) or {}
        means = memory.get("means")
        careful = self._careful(step)
        kept = self.careful if careful else MEANS_KEPT
        recent = means[0] if means and step.now - datetime.fromisoformat(means[1]) <= kept \
            else None
        signal = step.understanding.safety(text, Context(careful, recent, answering))
        if signal.kind is None and step.lang.code != self.catalog.source:
            # People switch languages, most of all under stress: a plain sign in the bot's
            # source language ("i want to kill myself") is heard from everyone.
            said = self.catalog.language(None).understanding.crisis(text)
            signal = replace(signal, kind=said) if said else signal
        if signal.means:
            memory["means"] = [signal.means, step.now.isoformat()]
            step.answers["safety.means"] = signal.means
        if signal.kind:
            memory["since"] = step.now.isoformat()
        if memory:
            step.user.settings[SAFETY] = memory
        return signal

    def _careful(self, step: _Step) -> bool:
        since = (step.user.settings.get(SAFETY) or {}).get("since")
        return since is not None and step.now - datetime.fromisoformat(since) <= self.careful

    def _in_crisis_conversation(self, step: _Step) -> bool:
        """In the crisis dialog, and not one left open and forgotten days ago."""
        return step.user.dialog == CRISIS_DIALOG and self._careful(step)

    def _in_crisis(self, step: _Step) -> None:
        """The step ended in the crisis conversation: it is still going on, and its
        replies go out at once."""
        memory = step.user.settings.get(SAFETY) or {}
        memory["since"] = step.now.isoformat()
        step.user.settings[SAFETY] = memory
        step.replies[:] = [replace(r, priority=Priority.CRISIS) for r in step.replies]

    def _route_intent(self, step: _Step, intent: str) -> bool:
        """Act on a recognised intent; False when it leads nowhere from here."""
        current = self._current(step.user)
        if current and intent in current[1].on:
            self._fire(step, current[0], current[1].name, intent_trigger(intent))
            return True
        if intent == "cancel":
            self._command(step, "cancel")
            return True
        reply = step.understanding.reply(intent)
        opened = self.catalog.by_intent(intent)
        # In the middle of something, an intent with a reply (a feeling, thanks) is answered
        # and the step stays; only outside a dialog does it open its own.
        if opened and not (reply and current):
            step.answers[INTENT_NAME] = intent
            self._start(step, opened.name)
            return True
        if reply:
            step.replies.append(Outgoing(to_html(reply, {})))
            self._show_current(step, quiet=True)
            return True
        return False

    def _clarify(self, step: _Step, intents: tuple[str, ...]) -> None:
        """Not sure what was meant: ask, with a button for each guess."""
        buttons = [Button(step.understanding.label(i), SEPARATOR.join((CLARIFY, i)))
                   for i in intents]
        buttons.append(Button(step.messages["clarify_other"], SEPARATOR.join((CLARIFY, CONTINUE))))
        # Typed instead of tapped ("2", or the words), the next message picks one.
        step.user.settings[CLARIFYING] = [*intents, CONTINUE]
        step.replies.append(Outgoing(to_html(step.messages["clarify"], {}), tuple(buttons)))

    def _crisis(self, step: _Step, kind: str) -> None:
        """Interrupt whatever is going on; remember it so the person can come back to it.
        Within one crisis the first interrupted step is the one to go back to: a dialog
        opened in between (by a message the net missed) is not what they were doing."""
        self._pause(step)
        step.answers["crisis.kind"] = kind
        step.answers["crisis.signal"] = kind
        log.info("crisis signs (%s) from user %s", kind, step.user.user_id)
        self._start(step, CRISIS_DIALOG)

    def _pause(self, step: _Step) -> None:
        """Remember the step a crisis conversation interrupts, unless one is remembered
        already in this crisis."""
        paused = step.user.settings.get(PAUSED)
        if paused and (len(paused) < 3 or step.now - datetime.fromisoformat(paused[2]) >
                       self.careful):
            paused = None
        if paused is None:
            step.user.settings.pop(PAUSED, None)
            if step.user.dialog and step.user.dialog != CRISIS_DIALOG:
                step.user.settings[PAUSED] = [step.user.dialog, step.user.state,
                                              step.now.isoformat()]

    def _typed_choice(self, step: _Step, dialog: DialogSpec, state: StateSpec,
                      text: str) -> str | None:
        """The button (its data) chosen by typing its words ("back to the tools", "no!"),
        its number where no number is asked, or plain yes or no ("yep", "nah") for a yes or
        no button."""
        choices = self._choices(step.lang, dialog, state, step.answers)
        if not choices:
            return None
        typed = normalize(text)
        labels = [normalize(c.label) for c in choices]
        if typed and typed in labels:
            return choices[labels.index(typed)].data
        source = [normalize(c.source) for c in choices]  # "yes" at a "Sí" button is clear too
        if typed and typed in source:
            return choices[source.index(typed)].data
        if state.expect != "number" and typed.isdigit() and 1 <= int(typed) <= len(choices):
            return choices[int(typed) - 1].data
        # Part of one label ("remind me why"), or one label within more words ("yep 7-10",
        # "surf the urge please"): of two words or more, so "no" is not in "no idea".
        padded = f" {typed} "
        near = [i for i, label in enumerate(labels) if " " in label and (
            f" {label} " in padded or (" " in typed and f" {typed} " in f" {label} "))]
        if len(near) == 1 and state.expect != "text":
            return choices[near[0]].data
        # A setting's name ("Language: English"): "the language" or "idioma" means that one.
        names = [normalize(c.label.split(":", 1)[0]) if ":" in c.label else "" for c in choices]
        named = [i for i, name in enumerate(names) if name and f" {name} " in padded]
        if len(named) == 1 and state.expect != "text":
            return choices[named[0]].data
        # A step that takes typed words reads them itself ("ok, calling them now" is not
        # "ok"); plain yes and no stand for buttons only where nothing else is read.
        said = step.words.yes_or_no(text) if state.expect != "text" else None
        if said is None:
            return None
        words = step.words.yes if said == "yes" else step.words.no
        fits = [c for c, label in zip(choices, labels, strict=True)
                if normalize(c.value) in words or label in words
                or label.split(" ", 1)[0] in words]
        return fits[0].data if len(fits) == 1 else None

    def _location(self, step: _Step, event: Incoming) -> None:
        if event.location:  # where the person is (e.g. for the crisis lines of their country)
            step.answers[SHARED_PLACE] = {"latitude": event.location.latitude,
                                          "longitude": event.location.longitude}
        current = self._current(step.user)
        opens = self.catalog.for_locations()
        if event.location and opens is not None and (current is None or (
                current[1].expect is None and current[0].name != CRISIS_DIALOG)):
            # Shared with no question asking for it: "meetings near here" (or whatever
            # dialog takes locations), answered with it when it asks where.
            asked = len(step.replies)
            self._start(step, opens.name)
            current = self._current(step.user)
            if current and current[1].expect == "location":
                del step.replies[asked:]  # "where are you?": answered already
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
        if followup.dialog != CRISIS_DIALOG and self._in_crisis_conversation(step):
            log.info("follow-up %s for user %s skipped: in a crisis conversation",
                     followup.id, followup.user_id)
            return
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
        if dialog.name == CRISIS_DIALOG:
            self._pause(step)  # a check-back: "go back" returns to what they are doing now
        here = step.user.state if step.user.dialog == dialog.name else BEGIN
        self._fire(step, dialog, here or BEGIN, timer_trigger(followup.state))

    # -- moving through dialogs ---------------------------------------------------------

    def _answer(self, step: _Step, dialog: DialogSpec, state: StateSpec, value: Any) -> None:
        step.user.settings.pop(MISSES, None)
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
                    records=step.records, timezone=step.user.timezone,
                    saved=lambda kind: self.store.records(step.user.user_id, kind),
                    language=step.user.language, words=step.words,
                    locale=step.lang.code, languages=self.catalog.language)
        if not self.machines[dialog.name].run(turn, state, trigger):
            raise RuntimeError(f"no branch of {trigger!r} applies at {dialog.name}:{state}")
        step.user.dialog, step.user.state = dialog.name, turn.state
        if turn.locale != step.lang.code:  # they chose another language (set_language)
            step.user.locale = turn.locale
            step.lang = self.catalog.language(turn.locale)
        arrived = dialog.states[turn.state]
        for effect in turn.effects:
            if isinstance(effect, CancelFollowUps):
                step.cancel_dialogs.add(effect.dialog)
                step.followups = [f for f in step.followups if f.dialog != effect.dialog]
            if isinstance(effect, FollowUpRequest):
                step.followups.append(NewFollowUp(effect.due, effect.dialog, effect.state))
            if isinstance(effect, SetReminder):
                step.reminder = self._reminder_change(step, effect)
            if isinstance(effect, ForgetMe):
                step.forget = True
        starts = [e.name for e in turn.effects if isinstance(e, StartDialog)]
        resume = any(isinstance(e, ResumeDialog) for e in turn.effects)
        if arrived.end or starts or resume or any(isinstance(e, EndDialog) for e in turn.effects):
            step.user.dialog = step.user.state = None
            if dialog.name == CRISIS_DIALOG and not resume:
                step.user.settings.pop(PAUSED, None)  # they chose not to go back
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
            step.user.dialog, step.user.state = paused[0], paused[1]
            if self._current(step.user) is None:  # removed since: nothing to go back to
                step.user.dialog = step.user.state = None
        self._show_current(step, quiet=True)

    def _enter(self, turn: Turn, state: StateSpec) -> None:
        """Called by transitions on entering a state: its actions, then its messages."""
        for call in state.do:
            self._action_fns[call.name](turn, call.args)
        turn.replies.extend(self._render(turn.dialog, state, FactContext(
            self.store, turn.user_id, self.clock.now(), turn.answers, turn.timezone,
            turn.language, turn.records_of, turn.translation)))

    # -- replies --------------------------------------------------------------------------

    def _context(self, user: UserRecord, answers: dict[str, Any],
                 lang: Translation) -> FactContext:
        return FactContext(self.store, user.user_id, self.clock.now(), answers, user.timezone,
                           user.language, translation=lang)

    def _render(self, dialog: DialogSpec, state: StateSpec, context: FactContext,
                last_only: bool = False) -> list[Outgoing]:
        lang = context.translation or self.catalog.language(None)
        say = lang.say.get((dialog.name, state.name), state.say)
        labels = lang.labels.get((dialog.name, state.name)) or [b.label for b in state.buttons]
        values = self._values((*say, *labels), context, lang)  # "Language: {language_name}"
        texts = [to_html(t, values) for t in say]
        buttons = tuple(Button(c.label, c.data)
                        for c in self._choices(lang, dialog, state, values))
        pictures = [Outgoing(drawing=Drawing(state.photo, json.dumps(
            self.pictures[state.photo].gather(context))))] if state.photo and not last_only else []
        venue = self.venues[state.venue](context) if state.venue and not last_only else None
        if venue is not None:
            pictures.append(Outgoing(venue=venue))
        if state.document and not last_only:
            pictures.append(Outgoing(document=self.documents[state.document](context)))
        if last_only:
            texts = texts[-1:]
        if not texts:
            return pictures
        return pictures + [Outgoing(t) for t in texts[:-1]] + [
            Outgoing(texts[-1], buttons, expect=state.expect)]

    def _show_current(self, step: _Step, quiet: bool = False) -> None:
        """The current step again (its last message); with nothing going on, the fallback
        message unless `quiet`."""
        current = self._current(step.user)
        if current:
            step.replies.extend(self._render(*current, self._context(step.user, step.answers,
                                                                     step.lang),
                                             last_only=True))
        elif not quiet:
            self._say(step, "fallback")

    def _values(self, texts: tuple[str, ...], context: FactContext,
                lang: Translation) -> dict[str, Any]:
        """Answers (as they read in the person's language) plus the facts these texts use
        (computed only when used)."""
        answers = {k: lang.values.get(v, v) if isinstance(v, str) else v
                   for k, v in context.answers.items()} if lang.values else dict(context.answers)
        if any(f"{{{COMMANDS}" in t for t in texts):  # "How do I use this chat?"
            answers[COMMANDS] = "\n".join(f"/{command}: {description}" for command, description
                                          in self.catalog.commands(lang.code))
        used = [name for name in self.facts if any(f"{{{name}" in t for t in texts)]
        if not used:
            return answers
        return {**answers, **{name: self.facts[name](context) for name in used}}

    def _choices(self, lang: Translation, dialog: DialogSpec, state: StateSpec,
                 values: Mapping[str, Any]) -> list[_Choice]:
        """A step's buttons as the person sees them: the /help menu's (`menu: true`), then
        its own."""
        found = [_Choice(lang.menu.get(d.name, (d.title, ""))[0] or d.title or str(d.command),
                         d.title, SEPARATOR.join((MENU, d.name)))
                 for d in (self.catalog.menu() if state.menu else ())]
        labels = lang.labels.get((dialog.name, state.name)) or [b.label for b in state.buttons]
        found += [_Choice(fill(label, values, escape=False), fill(b.label, values, escape=False),
                          state.button_data(dialog.name, i), str(b.value))
                  for i, (label, b) in enumerate(zip(labels, state.buttons, strict=True))]
        return found

    def _say(self, step: _Step, key: str, **values: Any) -> None:
        step.replies.append(Outgoing(to_html(step.messages[key], values)))

    def _current(self, user: UserRecord) -> tuple[DialogSpec, StateSpec] | None:
        dialog = self.catalog.dialogs.get(user.dialog or "")
        if dialog is None or user.state not in dialog.states:
            return None  # no dialog, or one an author has since removed
        return dialog, dialog.states[user.state]


def _int_if_whole(value: float) -> float | int:
    return int(value) if value == int(value) else value


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
