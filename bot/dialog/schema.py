"""Pass one of validation: check a parsed file against dialogs/schema.json.

jsonschema does the checking; this module turns its errors into sentences a
counsellor can act on, each tied to the line of the offending key.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from bot.errors import Problem
from bot.hints import did_you_mean
from bot.yamlfile import Parsed, Path


@cache
def schema() -> dict[str, Any]:
    """The published schema (dialogs/schema.json is a copy of this package file)."""
    text = resources.files("bot.dialog").joinpath("schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def check(parsed: Parsed) -> list[Problem]:
    if not isinstance(parsed.data, dict):
        return [parsed.problem((), "expected a dialog (dialog:, start:, states:) "
                                   "or the messages file (messages:)")]
    problems: list[Problem] = []
    for error in _validator().iter_errors(parsed.data):
        problems.extend(_describe(error, parsed))
    return problems


_ITEM_NAMES = {"buttons": "button", "next": "branch", "do": "action"}


def where(path: Path) -> str:
    """A readable place: ('states', 'rate', 'buttons', 0, 'to') -> "state 'rate', button 1, to"."""
    parts: list[str] = []
    items = list(path)
    i = 0
    while i < len(items):
        item = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if item == "states" and nxt is not None:
            parts.append(f"state '{nxt}'")
            i += 2
        elif item in _ITEM_NAMES and isinstance(nxt, int):
            parts.append(f"{_ITEM_NAMES[item]} {nxt + 1}")
            i += 2
        elif item == "messages" and nxt is not None:
            parts.append(f"message '{nxt}'")
            i += 2
        else:
            parts.append(str(item))
            i += 1
    return ", ".join(parts)


def _prefix(path: Path) -> str:
    place = where(path)
    return f"{place}: " if place else ""


def _describe(error: ValidationError, parsed: Parsed) -> list[Problem]:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    inst = error.instance
    if kind in ("oneOf", "anyOf") and error.context:
        return _describe(_deepest(error), parsed)
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = list(error.schema.get("properties", {}))
        out = []
        for key in inst:
            if key in known:
                continue
            if " " in str(key):
                # `{label: Yes, I do}` splits at the comma into a key 'I do'.
                tip = ' (if a text has a comma inside { }, put it in "double quotes")'
            else:
                tip = did_you_mean(key, known) or f" (known keys: {', '.join(known)})"
            out.append(parsed.problem((*path, key), f"{_prefix(path)}unknown key '{key}'{tip}"))
        return out
    if "propertyNames" in error.absolute_schema_path:
        # jsonschema reports a bad key at its mapping; point at the key itself.
        path = (*path, inst)
    return [parsed.problem(path, f"{_prefix(path)}{_sentence(error)}")]


def _deepest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the alternative that got furthest (else the first type error)."""
    candidates = list(error.context or [])
    # Prefer alternatives of the right type: their errors are about the content.
    typed = [e for e in candidates if e.validator != "type"]
    chosen = best_match(typed) if typed else None
    if chosen is None:
        return _wrong_type(error, [c.schema.get("type") or "a name" for c in candidates])
    if chosen.validator in ("oneOf", "anyOf") and chosen.context:
        return _deepest(chosen)
    return chosen


def _wrong_type(error: ValidationError, expected: list[Any]) -> ValidationError:
    names = " or ".join(dict.fromkeys(_type_name(t) for t in expected))
    # `path=` sets relative_path, which absolute_path (the place reported) is built from.
    made = ValidationError(f"should be {names}", validator="custom", instance=error.instance,
                           path=error.relative_path)
    made.parent = error.parent
    return made


def _type_name(t: Any) -> str:
    names = {"string": "a text", "array": "a list", "object": "a mapping (key: value)",
             "number": "a number", "integer": "a whole number", "boolean": "true or false"}
    if isinstance(t, list):
        return " or ".join(names.get(str(x), str(x)) for x in t)
    return names.get(t, str(t))


def _sentence(error: ValidationError) -> str:
    kind, inst, value = error.validator, error.instance, error.validator_value
    if kind == "custom":
        return str(error.message)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key '{missing}'"
    if kind == "type":
        return f"should be {_type_name(value)}, not {type(inst).__name__}"
    if kind == "pattern":
        return (f"'{inst}' is not a valid name: use lower-case letters, digits and _, "
                "starting with a letter")
    if kind == "maxLength":
        return f"text is {len(inst)} characters; at most {value} are allowed"
    if kind == "minLength":
        return "must not be empty"
    if kind == "enum":
        return f"'{inst}' is not one of: {', '.join(map(str, value))}"
    if kind == "const":
        return f"must be {json.dumps(value)} (or leave the key out)"
    if kind == "minItems":
        return f"needs at least {value} item{'s' if value != 1 else ''}"
    if kind == "maxItems":
        return f"has {len(inst)} items; at most {value} are allowed"
    if kind == "maxProperties" or (kind == "minProperties" and error.schema.get("maxProperties")):
        return "write an action or condition as its name, or as {name: arguments}, one per item"
    if kind == "minProperties":
        return f"needs at least {value} entr{'y' if value == 1 else 'ies'}"
    text = str(error.message)
    return text if len(text) <= 200 else text[:197] + "..."
