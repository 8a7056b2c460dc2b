"""Transcripts: a conversation as an author expects it (tests/transcripts/*.yaml), played
through the engine. The test suite plays them, and so does `smart-coach test`, from the
installed command, on any dialogs folder; a step that differs is named with its file and
line, and shown as what was expected against what came.

```yaml
language: es            # optional: the person's app is in Spanish
steps:
  - user: /halt         # or press: "Yes", wait: 15m, location: [51.5, -0.1], nudge: true
    bot: ["Hungry?"]    # each reply, in order, contains these words
    buttons: ["Yes", "No"]
    answers: {halt.hungry: "yes"}
```
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dialog.registry import parse_duration
from bot.events import Outgoing
from bot.testing import ChatClient
from bot.yamlfile import Parsed, parse

ACTIONS = ("user", "press", "location", "wait", "nudge")


@dataclass(frozen=True, slots=True)
class Difference:
    """Where a transcript and the conversation part, and how."""

    file: str
    line: int
    step: str  # 'step 3 (press: "Yes")'
    lines: tuple[str, ...]  # what was expected against what came

    def __str__(self) -> str:
        return "\n".join((f"{self.file}:{self.line}: {self.step}", *self.lines))


def play(path: str | Path, dialogs: str | Path | None = None) -> Difference | None:
    """Play one transcript; None when the conversation went as written."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Difference(file, 1, "cannot read the transcript", (f"  {exc}",))
    parsed, problems = parse(text, file)
    if parsed is None or problems:
        first = problems[0] if problems else None
        return Difference(file, first.line if first else 1, "not a transcript",
                          (f"  {first.message if first else 'the file cannot be read'}",))
    steps = parsed.data.get("steps") if isinstance(parsed.data, dict) else None
    if not isinstance(steps, list) or not steps:
        return Difference(file, 1, "not a transcript", ("  expects steps: [...] "
                                                        "(see README, \"Testing a dialog\")",))
    chat = ChatClient(dialogs, language=parsed.data.get("language"))
    for number, step in enumerate(steps, 1):
        found = _step(chat, step, parsed, number)
        if found is not None:
            return found
    return None


def _step(chat: ChatClient, step: Any, parsed: Parsed, number: int) -> Difference | None:
    line = parsed.line(("steps", number - 1))
    what = next((k for k in ACTIONS if isinstance(step, dict) and k in step), None)
    if what is None:
        return Difference(parsed.file, line, f"step {number}",
                          (f"  has none of: {', '.join(ACTIONS)}",))
    shown = f"step {number} ({what}: {step[what]!r})" if what != "nudge" else \
        f"step {number} (nudge)"
    actions: dict[str, Callable[[Any], list[Outgoing]]] = {
        "user": lambda v: chat.send(str(v)),
        "press": lambda v: chat.press(str(v)),
        "location": lambda v: chat.share_location(float(v[0]), float(v[1])),
        "wait": lambda v: chat.wait(seconds=_seconds(v)),
        "nudge": lambda v: chat.nudge(),
    }
    try:
        actions[what](step[what])
    except (AssertionError, ValueError, TypeError, IndexError) as exc:
        return Difference(parsed.file, line, shown, (f"  {exc}",))
    lines: list[str] = []
    if "bot" in step:
        lines += _replies([str(x) for x in step["bot"] or []], chat.texts)
    if "buttons" in step:
        lines += _buttons([str(b) for b in step["buttons"] or []], chat.buttons)
    for key, value in (step.get("answers") or {}).items():
        got = chat.answers.get(key)
        if got != value:
            lines.append(f"  answer {key}: expected {value!r}, got {got!r}")
    return Difference(parsed.file, line, shown, tuple(lines)) if lines else None


def _replies(expected: list[str], got: list[str]) -> list[str]:
    """Each reply must contain its expected words, in order, and there must be as many."""
    if len(expected) == len(got) and all(e in g for e, g in zip(expected, got, strict=True)):
        return []
    if len(expected) == len(got):
        out = ["  the replies differ (- expected to contain, + what came):"]
        for i, (e, g) in enumerate(zip(expected, got, strict=True), 1):
            if e not in g:
                out += [f"  reply {i}:", f"  - {e}", f"  + {g}"]
        return out
    return [f"  expected {len(expected)} replies, got {len(got)} (- expected to contain, "
            "+ what came):", *(f"  - {e}" for e in expected), *(f"  + {g}" for g in got)]


def _buttons(expected: list[str], got: list[str]) -> list[str]:
    if expected == got:
        return []
    diff = [f"  {d}" for d in difflib.ndiff(expected, got) if d[:1] in "-+ "]
    return ["  the buttons differ (- expected, + what came):", *diff]


def _seconds(value: Any) -> float:
    delta = parse_duration(value)
    if delta is None:
        raise ValueError(f"wait: '{value}' is not a duration like 15m")
    return delta.total_seconds()
