"""The understanding a dialogs folder defines: crisis/, intents/ and words/ for a language,
with the risk classifier's examples; every problem named with its file and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.errors import Problem
from bot.nlu.crisis import build_crisis, build_risk_model
from bot.nlu.intents import StaleWeights, build_intents
from bot.nlu.understanding import Understanding
from bot.nlu.words import Words, build_words
from bot.yamlfile import parse


def load_understanding(folder: Path, language: str = "en") -> tuple[Understanding,
                                                                       list[Problem]]:
    """crisis/, intents/ and words/<language>.yaml, when the folder has them."""
    problems: list[Problem] = []
    built: dict[str, Any] = {}
    builders: tuple[tuple[str, Any], ...] = (
        ("crisis", build_crisis), ("intents", build_intents), ("words", build_words))
    for name, build in builders:
        path = folder / name / f"{language}.yaml"
        if not path.is_file():
            continue
        parsed, found = parse(path.read_text(encoding="utf-8"), str(path))
        problems.extend(found)
        if parsed is not None and not found:
            result, found = build(parsed)
            problems.extend(found)
            built[name] = result
    crisis, intents = built.get("crisis"), built.get("intents")
    examples = folder / "crisis" / "examples" / f"{language}.yaml"
    if crisis is not None and examples.is_file():
        parsed, found = parse(examples.read_text(encoding="utf-8"), str(examples))
        problems.extend(found)
        if parsed is not None and not found:
            # Every intent example ("i want a drink", "i feel so ashamed") is a counter-example.
            try:
                model, found = build_risk_model(parsed, intents.examples if intents else ())
            except StaleWeights as exc:  # its weights ship with the intent model's
                model, found = None, [Problem(str(examples), 1, str(exc))]
            problems.extend(found)
            crisis = dataclasses.replace(crisis, risk_model=model)
    return Understanding(crisis, intents, words=built.get("words") or Words()), problems
