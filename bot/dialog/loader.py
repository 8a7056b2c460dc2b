"""Load every file of a dialogs folder into a validated Catalog, or report every problem.

Pass one (per file): YAML syntax, duplicate keys, the JSON Schema. Pass two (see
bot.dialog.validate): cross-references, reachability, dead ends, registry names,
the channels' limits (button data). The engine never sees a dialog that did not pass both.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bot.dialog import schema
from bot.dialog.registry import Registry
from bot.dialog.spec import (
    MENU_PLACE,
    SOURCE_LANGUAGE,
    Branch,
    ButtonSpec,
    Call,
    Catalog,
    DialogSpec,
    StateSpec,
    Translation,
)
from bot.dialog.translation import Source, load_translation, translation_folders
from bot.dialog.validate import Sources, check_catalog
from bot.errors import DialogError, Problem
from bot.nlu.intents import shipped_only
from bot.nlu.load import load_understanding
from bot.yamlfile import Parsed, parse

MESSAGES_KEY = "messages"
TEXTS_KEY = "texts"  # beside messages: the tools' sentences, by key


def load_catalog(directory: str | Path, registry: Registry,
                 button_limit: tuple[str, int] | None = None) -> Catalog:
    """The validated catalog; raises DialogError listing every problem otherwise."""
    catalog, problems = check_directory(directory, registry, train_stale=True,
                                        button_limit=button_limit)
    if problems or catalog is None:
        raise DialogError(problems)
    return catalog


def check_directory(directory: str | Path, registry: Registry, train_stale: bool = False,
                    button_limit: tuple[str, int] | None = None
                    ) -> tuple[Catalog | None, list[Problem]]:
    """train_stale: a model whose examples changed since its shipped weights were trained is
    trained now (with scikit-learn, and a warning) rather than reported (`validate`).
    button_limit: (channel, bytes) a button's data may take, for the strictest channel."""
    folder = Path(directory)
    if not folder.is_dir():
        return None, [Problem(str(folder), 1, "no such folder of dialogs")]
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        return None, [Problem(str(folder), 1, "no dialog files (*.yaml) in this folder")]

    problems: list[Problem] = []
    dialogs: list[tuple[DialogSpec, Parsed]] = []
    messages: dict[str, str] | None = None
    texts: dict[str, str] = {}
    messages_parsed: Parsed | None = None
    seen_messages = False  # a messages file, even one with errors
    # Dialogs whose file has problems of its own: what other files say of them is not
    # checked, so one mistake is one problem ("no dialog has command: help" would follow).
    broken: set[str] = set()
    for path in files:
        shown = str(path)
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except OSError as exc:
            problems.append(Problem(shown, 1, f"cannot read the file: {exc.strerror}"))
            broken.add(path.stem)
            continue
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            problems.append(Problem(shown, line, "the file is not UTF-8 text (save it as "
                                    f"UTF-8): byte {raw[exc.start]:#x} cannot be read"))
            broken.add(path.stem)
            continue
        parsed, found = parse(text, shown)
        problems.extend(found)
        if parsed is None:
            broken.add(path.stem)
            continue
        if parsed.data is None:
            problems.append(Problem(shown, 1, "the file is empty"))
            broken.add(path.stem)
            continue
        is_messages = isinstance(parsed.data, dict) and MESSAGES_KEY in parsed.data
        found = schema.check(parsed)
        problems.extend(found)
        if found:
            seen_messages = seen_messages or is_messages
            named = parsed.data.get("dialog") if isinstance(parsed.data, dict) else None
            broken.add(named if isinstance(named, str) else path.stem)
            continue
        if is_messages:
            if messages_parsed is not None:
                problems.append(parsed.problem((MESSAGES_KEY,), "messages are already defined "
                                               f"in {messages_parsed.file}"))
                continue
            messages, messages_parsed = dict(parsed.data[MESSAGES_KEY]), parsed
            texts = dict(parsed.data.get(TEXTS_KEY) or {})
        else:
            dialogs.append((build_dialog(parsed), parsed))

    if messages is None and not seen_messages:
        problems.append(Problem(str(folder), 1,
                                "no messages file: add messages.yaml with the system messages"))
    with nullcontext() if train_stale else shipped_only():
        understanding, found = load_understanding(folder)
    problems.extend(found)
    problems.extend(check_catalog(Sources(dialogs, messages or {}, messages_parsed,
                                          understanding, texts, frozenset(broken)),
                                  registry, button_limit))
    if problems or messages is None:
        return None, sorted(problems)
    specs = {d.name: d for d, _ in dialogs}
    languages, problems = _translations(folder, Source(specs, messages, texts), train_stale)
    if problems:
        return None, sorted(problems)
    return Catalog(specs, messages, understanding, texts, translations=languages), []


def _translations(folder: Path, source: Source, train_stale: bool
                  ) -> tuple[dict[str, Translation], list[Problem]]:
    """Every translation folder (dialogs/es/), checked against the source it overlays."""
    languages: dict[str, Translation] = {}
    problems: list[Problem] = []
    for translated in translation_folders(folder):
        code = translated.name
        if code == SOURCE_LANGUAGE:
            problems.append(Problem(str(translated), 1, f"'{code}' is the language the dialogs "
                                    "are written in: it needs no translation folder"))
            continue
        for part in ("crisis", "intents", "words"):
            # Someone spoken to in a language must be understood, and kept safe, in it.
            if not (folder / part / f"{code}.yaml").is_file():
                problems.append(Problem(str(folder / part / f"{code}.yaml"), 1,
                                        f"missing: {part} for the '{code}' translation "
                                        f"(see README, \"Adding a language\")"))
        with nullcontext() if train_stale else shipped_only():
            understanding, found = load_understanding(folder, code)
        problems.extend(found)
        translation, found = load_translation(translated, source, understanding)
        problems.extend(found)
        if translation is not None:
            languages[code] = translation
    return languages, problems


def build_dialog(parsed: Parsed) -> DialogSpec:
    """The typed form of a file that passed the schema."""
    data = parsed.data
    states = {name: _state(name, body or {}, parsed) for name, body in data["states"].items()}
    return DialogSpec(
        name=data["dialog"], file=parsed.file, start=data["start"], states=states,
        title=data.get("title", ""), command=data.get("command"),
        description=data.get("description", ""), intents=tuple(data.get("intents", ())),
        locations=bool(data.get("locations", False)),
        words={name: tuple(items) for name, items in (data.get("words") or {}).items()},
        menu=None if data.get("menu") is False else int(data.get("menu", MENU_PLACE)),
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
        menu=bool(body.get("menu", False)),
    )


def _calls(items: Any, path: tuple[Any, ...], parsed: Parsed) -> tuple[Call, ...]:
    return tuple(_call(item, (*path, i), parsed) for i, item in enumerate(items))


def _call(item: Any, path: tuple[Any, ...], parsed: Parsed) -> Call:
    if isinstance(item, str):
        return Call(item, None, parsed.line(path))
    (name, args), = item.items()
    return Call(name, args, parsed.line(path))
