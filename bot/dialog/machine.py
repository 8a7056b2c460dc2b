"""Build one `transitions` machine per dialog, shared by every user.

The machine is built once, with one long-lived model, a cursor: for each event the engine
points the cursor at that user's Turn, puts it in the user's saved state (set_state),
fires one trigger and reads the state reached. transitions binds its triggers and state
helpers to a model when it is added; adding and removing the Turn itself on every event
was 53% of a step's CPU. The engine thread is the only one that fires, so one cursor per
machine is enough. All callbacks are closures over the validated spec and the registry,
so transitions never resolves a name from YAML by itself (it would import a dotted path
it cannot find).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from transitions import EventData, Machine

from bot.dialog.registry import Registry
from bot.dialog.spec import BEGIN, Call, DialogSpec, StateSpec
from bot.dialog.turn import Turn

NEXT = "next"
START = "begin"


def button_trigger(index: int) -> str:
    return f"button_{index}"


def intent_trigger(intent: str) -> str:
    return f"intent_{intent}"


def timer_trigger(state: str) -> str:
    return f"timer_{state}"


@dataclass(frozen=True, slots=True)
class Edge:
    """One transition of a dialog, before callbacks are attached."""

    trigger: str
    source: str
    dest: str
    when: Call | None = None
    actions: tuple[Call, ...] = ()
    label: str = ""  # for diagrams


def edges(spec: DialogSpec, registry: Registry) -> Iterator[Edge]:
    """Every transition of a dialog, in the order conditions are tried."""
    yield Edge(START, BEGIN, spec.start, label="start")
    followed: set[str] = set()
    for state in spec.states.values():
        for i, button in enumerate(state.buttons):
            if button.to:
                yield Edge(button_trigger(i), state.name, button.to, None, button.do,
                           button.label)
            else:
                for branch in state.next:
                    yield Edge(button_trigger(i), state.name, branch.to, branch.when,
                               button.do, button.label)
        if state.expect or not state.waits:
            for branch in state.next:
                label = f"answer ({state.expect})" if state.expect else ""
                yield Edge(NEXT, state.name, branch.to, branch.when, (), label)
        for intent, dest in state.on.items():
            yield Edge(intent_trigger(intent), state.name, dest, label=f"intent {intent}")
        for call in state.do:
            followed.update(registry.actions[call.name].targets(call.args))
    for target in sorted(followed):
        yield Edge(timer_trigger(target), "*", target, label="timer")


class Cursor:
    """The machine's one model: the Turn of the event being run, and its state."""

    def __init__(self) -> None:
        self.turn: Turn | None = None
        self.state = BEGIN  # set by transitions


def _turn(event: EventData) -> Turn:
    turn = cast(Cursor, event.model).turn
    assert turn is not None, "fired outside DialogMachine.run"
    return turn


class DialogMachine:
    """A dialog's shared machine and the way to run one event on it."""

    def __init__(self, spec: DialogSpec, registry: Registry,
                 on_enter: Callable[[Turn, StateSpec], None]):
        self.spec = spec
        self._registry = registry
        self._cursor = Cursor()
        self.machine = Machine(
            model=self._cursor, states=[BEGIN, *spec.states], initial=BEGIN,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        )
        for state in spec.states.values():
            self.machine.get_state(state.name).add_callback("enter", _entering(on_enter, state))
        for edge in edges(spec, registry):
            self.machine.add_transition(
                edge.trigger, edge.source, edge.dest,
                conditions=[self._condition(edge.when)] if edge.when else None,
                before=[self._actions(edge.actions)] if edge.actions else None,
            )

    def triggers_from(self, state: str) -> set[str]:
        return set(self.machine.get_triggers(state))

    def run(self, turn: Turn, state: str, trigger: str) -> bool:
        """Fire `trigger` for the turn from `state`; turn.state is where it arrived. False
        if no branch applied (turn.state is then `state`)."""
        cursor = self._cursor
        cursor.turn = turn
        self.machine.set_state(state, model=cursor)
        try:
            fired = bool(self.machine.events[trigger].trigger(cursor))
            turn.state = cursor.state
            return fired
        finally:
            cursor.turn = None

    def _condition(self, call: Call) -> Callable[[EventData], bool]:
        fn = self._registry.conditions[call.name].fn
        return lambda event: bool(fn(_turn(event), call.args))

    def _actions(self, calls: tuple[Call, ...]) -> Callable[[EventData], None]:
        entries = [(self._registry.actions[c.name].fn, c.args) for c in calls]

        def run(event: EventData) -> None:
            turn = _turn(event)
            for fn, args in entries:
                fn(turn, args)
        return run


def _entering(on_enter: Callable[[Turn, StateSpec], None],
              state: StateSpec) -> Callable[[EventData], None]:
    def enter(event: EventData) -> None:
        turn = _turn(event)
        turn.state = state.name  # the state it is entering, for what the callback does
        on_enter(turn, state)
    return enter
