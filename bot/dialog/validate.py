"""Pass two of validation: what the schema cannot see.

Targets that do not exist, states nobody can reach, dead ends, steps that loop without
waiting, unknown actions and conditions (and their arguments), placeholders no dialog
ever fills, Telegram's 64-byte button data limit, and clashes between dialogs.
transitions itself only notices a bad target when the event fires, in front of a user.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot.dialog.registry import CheckContext, Entry, Registry
from bot.dialog.render import placeholders
from bot.dialog.spec import COMMANDS, CRISIS_DIALOG, Call, DialogSpec, StateSpec
from bot.errors import Problem
from bot.hints import did_you_mean as _suggest
from bot.nlu.intents import NONE
from bot.nlu.understanding import Understanding
from bot.yamlfile import Parsed

RESERVED_COMMANDS = {"cancel"}
ENGINE_KEYS = {"crisis.kind", "crisis.signal", "safety.means", "place.shared", "command.args",
               "intent.text", "intent.name",  # answers the engine saves
               COMMANDS}  # and every command with what it does
EXIT_ACTIONS = {"end", "start", "resume"}
# Words that label people or call addiction a disease (SMART Recovery's language).
LABELS = [
    (re.compile(r"\b(addicts?|junkies?|junky|druggies?|crackheads?|drunkards?)\b", re.I),
     "labels the person: say what they do instead (\"someone who uses\")"),
    (re.compile(r"(?<!non-)(?<!non )\balcoholics?\b(?! (drinks?|beverages?))", re.I),
     "labels the person: say \"someone who drinks\" or name the behaviour"),
    (re.compile(r"\b(stay|staying|stayed|get|getting|got|be|being|been|i'm|im|you're|youre|"
                r"keep|keeping|days?|weeks?|months?|years?) clean\b|\bclean (time|date|"
                r"and sober)\b", re.I),
     "uses \"clean\" as a label: say \"not using\" or \"alcohol-free\" instead"),
    (re.compile(r"\bdisease[sd]?\b", re.I),
     "calls addiction a disease: SMART talks about behaviour and choice"),
    (re.compile(r"\bpowerless\b", re.I),
     "says the person is powerless: SMART is about self-reliance and choice"),
]


def language_problems(text: str) -> list[str]:
    """What in a text breaks the project's language rules, as `'word' reason` lines."""
    found = []
    for pattern, why in LABELS:
        for match in pattern.finditer(text):
            found.append(f"'{match.group(0)}' {why}")
    return found
# Placeholders the engine fills in system messages, besides stored answers.
MESSAGE_PLACEHOLDERS = {"invalid_number": {"min", "max"}, "unknown_command": {"command"},
                        "which_number": {"number", "button"}}


@dataclass
class Sources:
    dialogs: list[tuple[DialogSpec, Parsed]]
    messages: dict[str, str]
    messages_parsed: Parsed | None
    understanding: Understanding = field(default_factory=lambda: Understanding(None, None))
    texts: dict[str, str] = field(default_factory=dict)  # the tools' sentences (messages.yaml)
    broken: frozenset[str] = frozenset()  # dialogs whose own file has problems


def check_catalog(sources: Sources, registry: Registry,
                  button_limit: tuple[str, int] | None = None) -> list[Problem]:
    """button_limit: (channel, bytes), the channel allowing a button's data the fewest
    bytes among those the dialogs are for (bot.channels.base.button_limit)."""
    problems: list[Problem] = []
    # A dialog in a file with problems still exists for the others: no follow-on problems.
    names = frozenset(d.name for d, _ in sources.dialogs) | sources.broken
    # Placeholders can show answers some dialog saves, and the facts the engine computes.
    saved = _saved_keys((d for d, _ in sources.dialogs), registry) | set(registry.facts) \
        | ENGINE_KEYS
    problems += _clashes(sources.dialogs)
    problems += _check_understanding(sources)
    for dialog, parsed in sources.dialogs:
        ctx = CheckContext(dialog, names)
        # Answers a broken file saves are not known either: no "which no dialog saves".
        problems += _check_dialog(dialog, parsed, registry, ctx,
                                  None if sources.broken else saved, button_limit)
    parsed_messages = sources.messages_parsed
    for key, text in sources.messages.items():
        assert parsed_messages is not None
        keys, bad = placeholders(text)
        where = ("messages", key)
        problems += [parsed_messages.problem(where, f"message '{key}': {m}") for m in bad]
        problems += [parsed_messages.problem(where, f"message '{key}': {m}")
                     for m in language_problems(text)]
        allowed = MESSAGE_PLACEHOLDERS.get(key, set())
        problems += [parsed_messages.problem(where, f"message '{key}' uses {{{k}}}, which "
                                             "nothing fills in here")
                     for k in keys if not sources.broken and k not in allowed and k not in saved]
    problems += _check_texts(sources, registry)
    return problems


def _check_texts(sources: Sources, registry: Registry) -> list[Problem]:
    """The tools' texts: each one a tool uses is there, fills only what the tool gives."""
    parsed = sources.messages_parsed
    if parsed is None:
        return []
    problems = [parsed.problem(("texts",) if "texts" in parsed.data else (),
                               f"missing: texts '{key}', which a tool uses (it fills in "
                               f"{', '.join(f'{{{k}}}' for k in sorted(fills)) or 'nothing'})")
                for key, fills in registry.texts.items() if key not in sources.texts]
    for key, text in sources.texts.items():
        where = ("texts", key)
        if key not in registry.texts:
            problems.append(parsed.problem(where, f"text '{key}': no tool uses it"
                                           f"{_suggest(key, registry.texts)}"))
            continue
        if not isinstance(text, str) or not text.strip():
            problems.append(parsed.problem(where, f"text '{key}': expects text"))
            continue
        keys, bad = placeholders(text)
        problems += [parsed.problem(where, f"text '{key}': {m}") for m in bad]
        problems += [parsed.problem(where, f"text '{key}': {m}") for m in language_problems(text)]
        gives = ", ".join(f"{{{k}}}" for k in sorted(registry.texts[key])) or "nothing"
        problems += [parsed.problem(where, f"text '{key}' uses {{{k}}}, which the tool does not "
                                    f"fill in (it gives {gives})")
                     for k in keys if k not in registry.texts[key]]
    return problems


def _clashes(dialogs: list[tuple[DialogSpec, Parsed]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    commands: dict[str, str] = {}
    intents: dict[str, str] = {}
    locations = ""  # the dialog a location shared outside any question opens
    for dialog, parsed in dialogs:
        if dialog.name in seen:
            problems.append(parsed.problem(("dialog",), f"dialog '{dialog.name}' is already "
                                           f"defined in {seen[dialog.name]}"))
        seen.setdefault(dialog.name, dialog.file)
        if dialog.command in RESERVED_COMMANDS:
            problems.append(parsed.problem(("command",), f"/{dialog.command} is built in; "
                                           "choose another command"))
        elif dialog.command and dialog.command in commands:
            problems.append(parsed.problem(("command",), f"/{dialog.command} already opens "
                                           f"dialog '{commands[dialog.command]}'"))
        elif dialog.command:
            commands[dialog.command] = dialog.name
            if not dialog.description:
                problems.append(parsed.problem(("command",), "a dialog with a command needs a "
                                               "description for the command menu"))
        if dialog.locations:
            if locations:
                problems.append(parsed.problem(("locations",), "shared locations already open "
                                               f"dialog '{locations}': one only"))
            locations = locations or dialog.name
        for i, intent in enumerate(dialog.intents):
            if intent in dialog.intents[:i]:
                problems.append(parsed.problem(("intents", i), f"intent '{intent}' is listed "
                                               "twice"))
            elif intent in intents:
                problems.append(parsed.problem(("intents", i), f"intent '{intent}' already opens "
                                               f"dialog '{intents[intent]}'"))
            intents.setdefault(intent, dialog.name)
    return problems


def _check_understanding(sources: Sources) -> list[Problem]:
    """Intents and dialogs agree; the crisis net has a dialog to open; help is reachable."""
    problems: list[Problem] = []
    if sources.broken:
        return problems  # what the broken file would have said is not known
    if sources.dialogs and not any(d.command == "help" for d, _ in sources.dialogs):
        problems.append(Problem(sources.dialogs[0][1].file, 1, "no dialog has command: help; "
                                "people must always be able to reach help"))
    classifier = sources.understanding.classifier
    names = {d.name for d, _ in sources.dialogs}
    if sources.understanding.crisis_detector and CRISIS_DIALOG not in names:
        problems.append(Problem(sources.dialogs[0][1].file if sources.dialogs else "dialogs",
                                1, f"crisis patterns need a dialog named '{CRISIS_DIALOG}' "
                                   "to open"))
    opened = {i for d, _ in sources.dialogs for i in d.intents}
    for dialog, parsed in sources.dialogs if classifier else ():
        for i, intent in enumerate(dialog.intents):
            if classifier and intent not in classifier.intents:
                problems.append(parsed.problem(("intents", i), f"intent '{intent}' is not in "
                                               "the intents file (intents/en.yaml)"))
        for state in dialog.states.values():
            for intent in state.on:
                if classifier and intent not in classifier.intents:
                    problems.append(parsed.problem(("states", state.name, "on", intent),
                                                   f"state '{state.name}': intent '{intent}' "
                                                   "is not in the intents file"))
    if classifier:
        for known in classifier.intents.values():
            for text in (known.label, known.reply):
                problems += [Problem(known.file, known.line, f"intent '{known.name}': {m}")
                             for m in language_problems(text)]
            routed = known.name in opened or known.reply or known.name in (NONE, "cancel")
            if not routed:
                problems.append(Problem(known.file, known.line, f"intent '{known.name}' leads "
                                        "nowhere: list it under a dialog's intents: or give "
                                        "it a reply"))
    return problems


def _saved_keys(dialogs: Iterable[DialogSpec], registry: Registry) -> set[str]:
    """Every answer key some dialog stores, by `save:` or by an action that saves."""
    keys: set[str] = set()
    for dialog in dialogs:
        for state in dialog.states.values():
            if state.save:
                keys.add(state.save)
            for call in _all_calls(state):
                entry = registry.actions.get(call.name)
                # Bad arguments fail here and are reported by the action's own check.
                if entry is not None:
                    with contextlib.suppress(KeyError, TypeError, AttributeError):
                        keys.update(entry.saves(call.args))
    return keys


def _all_calls(state: StateSpec) -> Iterator[Call]:
    yield from state.do
    for button in state.buttons:
        yield from button.do


def _check_dialog(dialog: DialogSpec, parsed: Parsed, registry: Registry, ctx: CheckContext,
                  saved: set[str] | None, button_limit: tuple[str, int] | None
                  ) -> list[Problem]:
    problems: list[Problem] = []
    states = dialog.states

    def target(name: str | None, line: int, what: str) -> None:
        if name is not None and name not in states:
            problems.append(Problem(dialog.file, line, f"{what} goes to unknown state "
                                    f"'{name}'{_suggest(name, states)}"))

    if dialog.start not in states:
        problems.append(parsed.problem(("start",), f"start: unknown state '{dialog.start}'"
                                       f"{_suggest(dialog.start, states)}"))
    for state in states.values():
        here = f"state '{state.name}'"
        problems += _check_state_shape(dialog, state)
        for i, button in enumerate(state.buttons, 1):
            target(button.to, button.line, f"{here}, button {i} '{button.label}'")
        for branch in state.next:
            target(branch.to, branch.line, f"{here}, next")
        for intent, dest in state.on.items():
            target(dest, parsed.line(("states", state.name, "on", intent)),
                   f"{here}, on '{intent}'")
        if state.document and state.document not in registry.documents:
            problems.append(Problem(dialog.file, state.line, f"{here}: unknown document "
                                    f"'{state.document}' (known: "
                                    f"{', '.join(sorted(registry.documents))})"))
        if state.venue and state.venue not in registry.venues:
            problems.append(Problem(dialog.file, state.line, f"{here}: unknown venue "
                                    f"'{state.venue}'{_suggest(state.venue, registry.venues)} "
                                    f"(known: {', '.join(sorted(registry.venues))})"))
        if state.photo and state.photo not in registry.pictures:
            problems.append(Problem(dialog.file, state.line, f"{here}: unknown picture "
                                    f"'{state.photo}'{_suggest(state.photo, registry.pictures)} "
                                    f"(known: {', '.join(sorted(registry.pictures))})"))
        for call in _all_calls(state):
            problems += _check_call(call, registry.actions, "action", here, dialog, ctx)
        for branch in state.next:
            if branch.when:
                problems += _check_call(branch.when, registry.conditions, "condition", here,
                                        dialog, ctx)
        for i, button in enumerate(state.buttons):
            data = state.button_data(dialog.name, i)
            size = len(data.encode("utf-8"))
            if button_limit and size > button_limit[1]:
                channel, most = button_limit
                problems.append(Problem(dialog.file, button.line,
                                        f"{here}: button data '{data}' is {size} bytes; {channel} "
                                        f"allows {most}: shorten the dialog or state name"))
        for text, line in _texts(state, parsed):
            problems += [Problem(dialog.file, line, f"{here}: {m}")
                         for m in language_problems(text)]
            keys, bad = placeholders(text)
            problems += [Problem(dialog.file, line, f"{here}: {m}") for m in bad]
            problems += [Problem(dialog.file, line, f"{here}: uses {{{k}}}, which no dialog "
                                 f"saves{_suggest(k, saved)}")
                         for k in keys if saved is not None and k not in saved]
    if not problems:
        problems += _check_graph(dialog, registry)
    return problems


def _texts(state: StateSpec, parsed: Parsed) -> Iterator[tuple[str, int]]:
    base = ("states", state.name)
    for i, text in enumerate(state.say):
        yield text, parsed.line((*base, "say", i) if len(state.say) > 1 else (*base, "say"))
    for button in state.buttons:
        yield button.label, button.line


def _check_state_shape(dialog: DialogSpec, state: StateSpec) -> list[Problem]:
    here = f"state '{state.name}'"
    out: list[str] = []
    if state.end and (state.buttons or state.menu or state.expect or state.next):
        out.append(f"{here} ends the dialog, so it cannot also have buttons, expect or next")
    hands_over = state.end and any(c.name in ("start", "resume") for c in state.do)
    if not state.say and state.waits and not hands_over:
        out.append(f"{here} has nothing to say: add say")
    if not state.end and not state.buttons and not state.menu and not state.next:
        out.append(f"{here} has no way out: add buttons, next, or end: true")
    if state.on and state.expect == "text":
        out.append(f"{here} takes any text as its answer, so its `on` intents are never used")
    if state.expect and not state.next:
        out.append(f"{here} expects an answer but has no next")
    if state.buttons and not state.next:
        for i, button in enumerate(state.buttons, 1):
            if button.to is None:
                out.append(f"{here}, button {i} '{button.label}' has no to, and the state "
                           "has no next")
    if state.expect == "number" and not state.range:
        out.append(f"{here} expects a number: add its range, e.g. range: [0, 10]")
    if state.range and state.expect != "number":
        out.append(f"{here} has a range but does not expect a number")
    if state.range and state.range[0] > state.range[1]:
        out.append(f"{here}: range [{state.range[0]:g}, {state.range[1]:g}] is the wrong way round")
    if state.save and not (state.expect or state.buttons):
        out.append(f"{here} saves an answer but asks for none (add expect or buttons)")
    for i, branch in enumerate(state.next[:-1], 1):
        if branch.when is None:
            out.append(f"{here}: next branch {i} has no if, so the branches after it "
                       "are never taken")
    if state.next and state.next[-1].when is not None:
        out.append(f"{here}: the last branch of next needs no if, so there is always a way on")
    return [Problem(dialog.file, state.line, m) for m in out]


def _check_call(call: Call, entries: dict[str, Entry], kind: str, here: str,
                dialog: DialogSpec, ctx: CheckContext) -> list[Problem]:
    entry = entries.get(call.name)
    if entry is None:
        return [Problem(dialog.file, call.line, f"{here}: unknown {kind} '{call.name}'"
                        f"{_suggest(call.name, entries)} (known: {', '.join(sorted(entries))})")]
    return [Problem(dialog.file, call.line, f"{here}: {kind} '{call.name}' {m}")
            for m in entry.check(call.args, ctx)]


def _successors(state: StateSpec, registry: Registry) -> list[str]:
    found = [b.to for b in state.buttons if b.to] + [b.to for b in state.next]
    found += list(state.on.values())
    for call in _all_calls(state):
        found += registry.actions[call.name].targets(call.args)
    return found


def _check_graph(dialog: DialogSpec, registry: Registry) -> list[Problem]:
    """Reachability from start, and loops of steps that never wait for the user."""
    problems: list[Problem] = []
    seen = {dialog.start}
    todo = [dialog.start]
    while todo:
        for nxt in _successors(dialog.states[todo.pop()], registry):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for state in dialog.states.values():
        if state.name not in seen:
            problems.append(Problem(dialog.file, state.line, f"state '{state.name}' cannot be "
                                    f"reached from start '{dialog.start}'"))
    # A cycle made only of steps that move on by themselves would never stop.
    moving = {n for n, s in dialog.states.items() if not s.waits}
    reported: set[str] = set()
    for name in sorted(moving):
        cycle = _cycle_from(name, dialog, moving)
        if cycle and not reported.intersection(cycle):
            reported.update(cycle)
            loop = " -> ".join([*cycle, cycle[0]])
            problems.append(Problem(dialog.file, dialog.states[name].line,
                                    f"states {loop} loop forever without waiting for the user"))
    if problems:
        return problems  # unreachable steps or a loop that never waits say enough
    # Every step must lead, somehow, to the end of the dialog: no trap that only /cancel
    # gets out of.
    finishing = {s.name for s in dialog.states.values()  # the menu's buttons open dialogs
                 if s.end or s.menu or any(c.name in EXIT_ACTIONS for c in s.do)}
    changed = True
    while changed:
        changed = False
        for state in dialog.states.values():
            if state.name not in finishing and \
                    finishing.intersection(_successors(state, registry)):
                finishing.add(state.name)
                changed = True
    for state in dialog.states.values():
        if state.name in seen and state.name not in finishing:
            problems.append(Problem(dialog.file, state.line, f"state '{state.name}' can never "
                                    "reach the end of the dialog (add a way to end: true)"))
    return problems


def _cycle_from(start: str, dialog: DialogSpec, moving: set[str]) -> list[str] | None:
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return path[path.index(name):]
        if name not in moving:
            return None
        path.append(name)
        for branch in dialog.states[name].next:
            found = visit(branch.to)
            if found:
                return found
        path.pop()
        return None

    return visit(start)
