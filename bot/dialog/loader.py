"""Load every file of a dialogs folder into a validated Catalog, or report every problem.

Pass one (per file): YAML syntax, duplicate keys, the JSON Schema. Pass two (see
bot.dialog.validate): cross-references, reachability, dead ends, registry names,
Telegram's limits. The engine never sees a dialog that did not pass both.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bot.dialog import schema
from bot.dialog.registry import Registry
from bot.dialog.spec import Branch, ButtonSpec, Call, Catalog, DialogSpec, StateSpec
from bot.dialog.validate import Sources, check_catalog
from bot.dialog.yamlfile import Parsed, parse
from bot.errors import DialogError, Problem
from bot.nlu.crisis import build_crisis, build_risk_model
from bot.nlu.intents import StaleWeights, build_intents, shipped_only
from bot.nlu.understanding import Understanding
from bot.nlu.words import Words, build_words

MESSAGES_KEY = "messages"


def load_catalog(directory: str | Path, registry: Registry) -> Catalog:
    """The validated catalog; raises DialogError listing every problem otherwise."""
    catalog, problems = check_directory(directory, registry, train_stale=True)
    if problems or catalog is None:
        raise DialogError(problems)
    return catalog


def check_directory(directory: str | Path, registry: Registry, train_stale: bool = False
                    ) -> tuple[Catalog | None, list[Problem]]:
    """train_stale: a model whose examples changed since its shipped weights were trained is
    trained now (with scikit-learn, and a warning) rather than reported (`validate`)."""
    folder = Path(directory)
    if not folder.is_dir():
        return None, [Problem(str(folder), 1, "no such folder of dialogs")]
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        return None, [Problem(str(folder), 1, "no dialog files (*.yaml) in this folder")]

    problems: list[Problem] = []
    dialogs: list[tuple[DialogSpec, Parsed]] = []
    messages: dict[str, str] | None = None
    messages_parsed: Parsed | None = None
    seen_messages = False  # a messages file, even one with errors
    for path in files:
        shown = str(path)
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except OSError as exc:
            problems.append(Problem(shown, 1, f"cannot read the file: {exc.strerror}"))
            continue
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            problems.append(Problem(shown, line, "the file is not UTF-8 text (save it as "
                                    f"UTF-8): byte {raw[exc.start]:#x} cannot be read"))
            continue
        parsed, found = parse(text, shown)
        problems.extend(found)
        if parsed is None:
            continue
        if parsed.data is None:
            problems.append(Problem(shown, 1, "the file is empty"))
            continue
        is_messages = isinstance(parsed.data, dict) and MESSAGES_KEY in parsed.data
        found = schema.check(parsed)
        problems.extend(found)
        if found:
            seen_messages = seen_messages or is_messages
            continue
        if is_messages:
            if messages_parsed is not None:
                problems.append(parsed.problem((MESSAGES_KEY,), "messages are already defined "
                                               f"in {messages_parsed.file}"))
                continue
            messages, messages_parsed = dict(parsed.data[MESSAGES_KEY]), parsed
        else:
            dialogs.append((build_dialog(parsed), parsed))

    if messages is None and not seen_messages:
        problems.append(Problem(str(folder), 1,
                                "no messages file: add messages.yaml with the system messages"))
    with nullcontext() if train_stale else shipped_only():
        understanding, found = load_understanding(folder)
    problems.extend(found)
    problems.extend(check_catalog(Sources(dialogs, messages or {}, messages_parsed,
                                          understanding), registry))
    if problems or messages is None:
        return None, sorted(problems)
    return Catalog({d.name: d for d, _ in dialogs}, messages, understanding), []


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


def build_dialog(parsed: Parsed) -> DialogSpec:
    """The typed form of a file that passed the schema."""
    data = parsed.data
    states = {name: _state(name, body or {}, parsed) for name, body in data["states"].items()}
    return DialogSpec(
        name=data["dialog"], file=parsed.file, start=data["start"], states=states,
        title=data.get("title", ""), command=data.get("command"),
        description=data.get("description", ""), intents=tuple(data.get("intents", ())),
        locations=bool(data.get("locations", False)),
    )


def _state(name: str, body: dict[str, Any], parsed: Parsed) -> StateSpec:
    base = ("states", name)
    say = body.get("say", ())
    nxt = body.get("next", ())
    branches: tuple[Branch, ...]
    if isinstance(nxt, str):
        branches = (Branch(nxt, None, parsed.line((*base, "next"))),)
    else:
        branches = tuple(
            Branch(b["to"], _call(b["if"], (*base, "next", i, "if"), parsed) if "if" in b else None,
                   parsed.line((*base, "next", i)))
            for i, b in enumerate(nxt))
    buttons = tuple(
        ButtonSpec(label=b["label"], to=b.get("to"), value=b.get("value", b["label"]),
                   do=_calls(b.get("do", ()), (*base, "buttons", i, "do"), parsed),
                   line=parsed.line((*base, "buttons", i)))
        for i, b in enumerate(body.get("buttons", ())))
    rng = body.get("range")
    return StateSpec(
        name=name, line=parsed.line(base),
        say=(say,) if isinstance(say, str) else tuple(say),
        buttons=buttons, expect=body.get("expect"),
        range=(float(rng[0]), float(rng[1])) if rng else None,
        save=body.get("save"), next=branches, on=dict(body.get("on", {})),
        do=_calls(body.get("do", ()), (*base, "do"), parsed), end=bool(body.get("end", False)),
        photo=body.get("photo"), venue=body.get("venue"), document=body.get("document"),
    )


def _calls(items: Any, path: tuple[Any, ...], parsed: Parsed) -> tuple[Call, ...]:
    return tuple(_call(item, (*path, i), parsed) for i, item in enumerate(items))


def _call(item: Any, path: tuple[Any, ...], parsed: Parsed) -> Call:
    if isinstance(item, str):
        return Call(item, None, parsed.line(path))
    (name, args), = item.items()
    return Call(name, args, parsed.line(path))
