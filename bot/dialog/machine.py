"""Build one `transitions` machine per dialog, shared by every user.

The machine is built once with model=None; for each event the engine attaches that
user's Turn at its saved state, fires one trigger and detaches it (see Engine). All
callbacks are closures over the validated spec and the registry, so transitions never
resolves a name from YAML by itself (it would import a dotted path it cannot find).
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


class DialogMachine:
    """A dialog's shared machine and the way to run one event on it."""

    def __init__(self, spec: DialogSpec, registry: Registry,
                 on_enter: Callable[[Turn, StateSpec], None]):
        self.spec = spec
        self._registry = registry
        self.machine = Machine(
            model=None, states=[BEGIN, *spec.states], initial=BEGIN,
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
        """Attach the turn at `state`, fire `trigger`, detach. False if no branch applied."""
        self.machine.add_model(turn, initial=state)
        try:
            return bool(self.machine.events[trigger].trigger(turn))
        finally:
            self.machine.remove_model(turn)

    def _condition(self, call: Call) -> Callable[[EventData], bool]:
        fn = self._registry.conditions[call.name].fn
        return lambda event: bool(fn(event.model, call.args))

    def _actions(self, calls: tuple[Call, ...]) -> Callable[[EventData], None]:
        entries = [(self._registry.actions[c.name].fn, c.args) for c in calls]

        def run(event: EventData) -> None:
            for fn, args in entries:
                fn(event.model, args)
        return run


def _entering(on_enter: Callable[[Turn, StateSpec], None],
              state: StateSpec) -> Callable[[EventData], None]:
    return lambda event: on_enter(cast(Turn, event.model), state)
