"""Translations: a folder per language (dialogs/es/) overlaying the source dialogs' texts.

The English dialogs stay the one readable source of every conversation's flow. A
translation holds only what a person reads: for each dialog file an overlay of the same name
with its title, description, each state's `say` and each button's label (keyed by the
source label), the named word lists its conditions listen for, and how stored source values
read; `messages.yaml` with the system messages and the tools' texts; `labelling.yaml` with
the words that label people in that language. Nothing can drift unnoticed: a missing or
extra key, a placeholder that differs from the source, a text over the channel's limits or
a labelling word is a problem with its file and line, like any other in a dialog.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dialog.render import placeholders
from bot.dialog.spec import DialogSpec, Translation
from bot.errors import Problem
from bot.hints import did_you_mean
from bot.nlu.understanding import Understanding
from bot.yamlfile import Parsed, parse

CODE = re.compile(r"^[a-z]{2,3}$")  # an ISO 639 language code names a translation's folder
MESSAGES_FILE = "messages.yaml"
LABELLING_FILE = "labelling.yaml"
TEXT_LIMIT = 4096  # characters in one message (Telegram's, the strictest channel's)
LABEL_LIMIT = 64  # characters on a button, as the schema allows the source
OVERLAY_KEYS = {"dialog", "title", "description", "words", "states", "values"}
STATE_KEYS = {"say", "buttons"}


@dataclass(frozen=True, slots=True)
class Source:
    """The source language's side of the catalog, which every translation must match."""

    dialogs: dict[str, DialogSpec]
    messages: dict[str, str]
    texts: dict[str, str]


def translation_folders(folder: Path) -> list[Path]:
    """The translations a dialogs folder has: its subfolders named by a language code."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and CODE.match(p.name))


def needs_translation(label: str) -> bool:
    """Labels without letters ("0", "7-10", "👍") read the same in every language."""
    return any(ch.isalpha() for ch in label)


def load_translation(folder: Path, source: Source, understanding: Understanding
                     ) -> tuple[Translation | None, list[Problem]]:
    """The translation in `folder` (dialogs/es), or every way it differs from the source."""
    reader = _Reader(folder, source)
    labelling = reader.labelling()
    messages, texts = reader.messages(labelling)
    say: dict[tuple[str, str], tuple[str, ...]] = {}
    labels: dict[tuple[str, str], tuple[str, ...]] = {}
    menu: dict[str, tuple[str, str]] = {}
    words: dict[str, dict[str, tuple[str, ...]]] = {}
    values: dict[str, str] = {}
    overlays = {p.name: p for p in folder.iterdir()
                if p.suffix in (".yaml", ".yml") and p.name not in (MESSAGES_FILE, LABELLING_FILE)}
    by_file = {Path(d.file).name: d for d in source.dialogs.values()}
    for name, dialog in sorted(by_file.items()):
        if name not in overlays:
            reader.problems.append(Problem(str(folder / name), 1, f"missing: no translation "
                                           f"of {dialog.file} (dialog '{dialog.name}')"))
            continue
        overlay = reader.overlay(overlays[name], dialog, labelling)
        if overlay is None:
            continue
        say.update(overlay.say)
        labels.update(overlay.labels)
        menu[dialog.name] = overlay.menu
        words[dialog.name] = overlay.words
        values.update(overlay.values)
    for name in sorted(set(overlays) - set(by_file)):
        reader.problems.append(Problem(str(overlays[name]), 1, "extra: no source dialog file "
                                       f"'{name}'{did_you_mean(name, by_file)}"))
    if reader.problems:
        return None, reader.problems
    return Translation(folder.name, messages, texts, say, labels, menu, words, values,
                       understanding), []


@dataclass
class _Overlay:
    say: dict[tuple[str, str], tuple[str, ...]]
    labels: dict[tuple[str, str], tuple[str, ...]]
    menu: tuple[str, str]
    words: dict[str, tuple[str, ...]]
    values: dict[str, str]


class _Reader:
    """Reads one translation folder's files, collecting every problem."""

    def __init__(self, folder: Path, source: Source):
        self.folder = folder
        self.source = source
        self.problems: list[Problem] = []

    def _parse(self, path: Path) -> Parsed | None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(str(path), 1, f"cannot read the file: {exc}"))
            return None
        parsed, found = parse(text, str(path))
        self.problems += found
        if parsed is None or found:
            return None
        if not isinstance(parsed.data, dict):
            self.problems.append(Problem(str(path), 1, "expected keys and values "
                                         "(see README, \"Adding a language\")"))
            return None
        return parsed

    # -- labelling words --------------------------------------------------------------------

    def labelling(self) -> list[tuple[re.Pattern[str], str]]:
        """The language's labelling words: `labelling: [{pattern: regex, why: text}]`."""
        path = self.folder / LABELLING_FILE
        if not path.is_file():
            self.problems.append(Problem(str(path), 1, "missing: the words that label people "
                                         "in this language (see README, \"Adding a language\")"))
            return []
        parsed = self._parse(path)
        if parsed is None:
            return []
        rules = []
        items = parsed.data.get("labelling")
        if not isinstance(items, list) or not items:
            self.problems.append(parsed.problem((), "expects labelling: [{pattern: ..., why: "
                                                "...}]"))
            return []
        for i, item in enumerate(items):
            where = ("labelling", i)
            if not isinstance(item, dict) or set(item) != {"pattern", "why"}:
                self.problems.append(parsed.problem(where, "expects {pattern: regular "
                                                    "expression, why: what to say instead}"))
                continue
            try:
                rules.append((re.compile(str(item["pattern"]), re.I), str(item["why"])))
            except re.error as exc:
                self.problems.append(parsed.problem(where, f"pattern: {exc}"))
        return rules

    # -- messages ---------------------------------------------------------------------------

    def messages(self, labelling: list[tuple[re.Pattern[str], str]]
                 ) -> tuple[dict[str, str], dict[str, str]]:
        path = self.folder / MESSAGES_FILE
        if not path.is_file():
            self.problems.append(Problem(str(path), 1, "missing: the system messages and the "
                                         "tools' texts in this language"))
            return {}, {}
        parsed = self._parse(path)
        if parsed is None:
            return {}, {}
        found = []
        for section, wanted in (("messages", self.source.messages),
                                ("texts", self.source.texts)):
            got = parsed.data.get(section, {})
            if not isinstance(got, dict):
                self.problems.append(parsed.problem((section,), f"{section}: expects key: text"))
                got = {}
            found.append(self._keyed(parsed, (section,), got, wanted, TEXT_LIMIT, labelling,
                                     what=section.rstrip("s")))
        for key in set(parsed.data) - {"messages", "texts"}:
            self.problems.append(parsed.problem((key,), f"unknown key '{key}' (messages and "
                                                "texts only)"))
        return found[0], found[1]

    def _keyed(self, parsed: Parsed, base: tuple[str | int, ...], got: dict[str, Any],
               wanted: dict[str, str], limit: int, labelling: list[tuple[re.Pattern[str], str]],
               what: str) -> dict[str, str]:
        """Translated texts by key: every key of `wanted`, no other, each matching its source."""
        out: dict[str, str] = {}
        for key in wanted:
            if key not in got:
                self.problems.append(parsed.problem(base, f"missing: {what} '{key}' "
                                                    f"(source: {wanted[key]!r})"))
        for key, text in got.items():
            where = (*base, key)
            if key not in wanted:
                self.problems.append(parsed.problem(where, f"extra: {what} '{key}' is not in the "
                                                    f"source{did_you_mean(str(key), wanted)}"))
                continue
            if self._text(parsed, where, text, wanted[key], limit, labelling, f"{what} '{key}'"):
                out[key] = text
        return out

    def _text(self, parsed: Parsed, where: tuple[str | int, ...], text: Any, source: str,
              limit: int, labelling: list[tuple[re.Pattern[str], str]], what: str) -> bool:
        """Whether a translated text is sound; its problems reported if not."""
        if not isinstance(text, str) or not text.strip():
            self.problems.append(parsed.problem(where, f"{what}: expects text"))
            return False
        before = len(self.problems)
        keys, bad = placeholders(text)
        self.problems += [parsed.problem(where, f"{what}: {m}") for m in bad]
        want, _ = placeholders(source)
        if not bad and sorted(set(keys)) != sorted(set(want)):
            missing = sorted(set(want) - set(keys))
            extra = sorted(set(keys) - set(want))
            parts = [f"{word} " + ", ".join(f"{{{k}}}" for k in keys)
                     for word, keys in (("without", missing), ("with", extra)) if keys]
            said = "; ".join(parts)
            self.problems.append(parsed.problem(where, f"{what}: placeholders differ from the "
                                                f"source ({said})"))
        if len(text) > limit:
            self.problems.append(parsed.problem(where, f"{what}: {len(text)} characters; at "
                                                f"most {limit}"))
        for pattern, why in labelling:
            for match in pattern.finditer(text):
                self.problems.append(parsed.problem(where, f"{what}: '{match.group(0)}' {why}"))
        self.problems += [parsed.problem(where, f"{what}: {m}")
                          for m in _markup_problems(text, source)]
        return len(self.problems) == before

    # -- one dialog's overlay ---------------------------------------------------------------

    def overlay(self, path: Path, dialog: DialogSpec,
                labelling: list[tuple[re.Pattern[str], str]]) -> _Overlay | None:
        parsed = self._parse(path)
        if parsed is None:
            return None
        data = parsed.data
        before = len(self.problems)
        for key in set(data) - OVERLAY_KEYS:
            self.problems.append(parsed.problem((key,), f"unknown key '{key}'"
                                                f"{did_you_mean(str(key), OVERLAY_KEYS)}: a "
                                                "translation holds texts only (dialog, title, "
                                                "description, words, states, values)"))
        if data.get("dialog") != dialog.name:
            self.problems.append(parsed.problem(("dialog",), f"expects dialog: {dialog.name} "
                                                f"(the source {dialog.file} is that dialog)"))
        menu = []
        for key, wanted in (("title", dialog.title), ("description", dialog.description)):
            got = data.get(key)
            if wanted and got is None:
                self.problems.append(parsed.problem((), f"missing: {key} (source: {wanted!r})"))
            elif got is not None and not wanted:
                self.problems.append(parsed.problem((key,), f"extra: {key} (the source has none)"))
            elif got is not None:
                self._text(parsed, (key,), got, wanted, 256 if key == "description" else 120,
                           labelling, key)
            menu.append(str(got or ""))
        words = self._words(parsed, dialog)
        say, labels = self._states(parsed, dialog, labelling)
        values = data.get("values", {})
        if not isinstance(values, dict) or not all(
                isinstance(k, str | int | float) and isinstance(v, str) and v.strip()
                for k, v in values.items()):
            self.problems.append(parsed.problem(("values",), "values: expects source value: "
                                                "how it reads in this language"))
            values = {}
        if len(self.problems) > before:
            return None
        return _Overlay(say, labels, (menu[0], menu[1]), words,
                        {str(k): v for k, v in values.items()})

    def _words(self, parsed: Parsed, dialog: DialogSpec) -> dict[str, tuple[str, ...]]:
        got = parsed.data.get("words", {})
        if not isinstance(got, dict):
            self.problems.append(parsed.problem(("words",), "words: expects name: [words]"))
            return {}
        for name in dialog.words:
            if name not in got:
                self.problems.append(parsed.problem(("words",) if "words" in parsed.data else (),
                                                    f"missing: words '{name}' (source: "
                                                    f"{', '.join(dialog.words[name][:6])} ...)"))
        out = {}
        for name, items in got.items():
            where = ("words", name)
            if name not in dialog.words:
                self.problems.append(parsed.problem(where, f"extra: words '{name}' are not in "
                                                    f"{dialog.file}"
                                                    f"{did_you_mean(str(name), dialog.words)}"))
            elif not isinstance(items, list) or not items or not all(
                    isinstance(w, str) and w.strip() for w in items):
                self.problems.append(parsed.problem(where, f"words '{name}': expects a list of "
                                                    "words or phrases"))
            else:
                out[name] = tuple(items)
        return out

    def _states(self, parsed: Parsed, dialog: DialogSpec,
                labelling: list[tuple[re.Pattern[str], str]]
                ) -> tuple[dict[tuple[str, str], tuple[str, ...]],
                           dict[tuple[str, str], tuple[str, ...]]]:
        got = parsed.data.get("states", {})
        if not isinstance(got, dict):
            self.problems.append(parsed.problem(("states",), "states: expects state: texts"))
            return {}, {}
        say: dict[tuple[str, str], tuple[str, ...]] = {}
        labels: dict[tuple[str, str], tuple[str, ...]] = {}
        for source in dialog.states.values():
            wanted = [b.label for b in source.buttons if needs_translation(b.label)]
            if (source.say or wanted) and source.name not in got:
                self.problems.append(parsed.problem(("states",) if "states" in parsed.data
                                                    else (), f"missing: state '{source.name}' "
                                                    f"({dialog.file}:{source.line})"))
        for name, body in got.items():
            where = ("states", name)
            state = dialog.states.get(name)
            if state is None:
                self.problems.append(parsed.problem(where, f"extra: state '{name}' is not in "
                                                    f"{dialog.file}"
                                                    f"{did_you_mean(str(name), dialog.states)}"))
                continue
            if not isinstance(body, dict):
                self.problems.append(parsed.problem(where, f"state '{name}': expects say and "
                                                    "buttons"))
                continue
            for key in set(body) - STATE_KEYS:
                self.problems.append(parsed.problem((*where, key), f"state '{name}': unknown "
                                                    f"key '{key}': the flow comes from "
                                                    f"{dialog.file}; only say and buttons here"))
            said = self._say(parsed, where, body, state.say, labelling, f"state '{name}'")
            if said is not None:
                say[(dialog.name, name)] = said
            shown = self._labels(parsed, where, body, [b.label for b in state.buttons],
                                 labelling, f"state '{name}'")
            if shown is not None:
                labels[(dialog.name, name)] = shown
        return say, labels

    def _say(self, parsed: Parsed, where: tuple[str | int, ...], body: dict[str, Any],
             source: tuple[str, ...], labelling: list[tuple[re.Pattern[str], str]],
             here: str) -> tuple[str, ...] | None:
        got = body.get("say")
        if not source:
            if got is not None:
                self.problems.append(parsed.problem((*where, "say"), f"{here}: extra: say (the "
                                                    "source says nothing here)"))
            return None
        if got is None:
            self.problems.append(parsed.problem(where, f"{here}: missing: say"))
            return None
        items = [got] if isinstance(got, str) else got
        if not isinstance(items, list) or len(items) != len(source):
            self.problems.append(parsed.problem((*where, "say"), f"{here}: say has "
                                                f"{len(items) if isinstance(items, list) else 0} "
                                                f"message(s); the source has {len(source)}"))
            return None
        good = True
        for i, (text, original) in enumerate(zip(items, source, strict=True)):
            at = (*where, "say", i) if isinstance(got, list) else (*where, "say")
            good = self._text(parsed, at, text, original, TEXT_LIMIT, labelling, here) and good
        return tuple(items) if good else None

    def _labels(self, parsed: Parsed, where: tuple[str | int, ...], body: dict[str, Any],
                source: list[str], labelling: list[tuple[re.Pattern[str], str]],
                here: str) -> tuple[str, ...] | None:
        got = body.get("buttons", {})
        wanted = [label for label in source if needs_translation(label)]
        if not isinstance(got, dict):
            self.problems.append(parsed.problem((*where, "buttons"), f"{here}: buttons: expects "
                                                "\"source label\": translated label"))
            return None
        missing = [label for label in wanted if label not in got]
        for label in got:
            if label not in source:
                # A misspelt source label is one mistake: said once, with the right one.
                hint = difflib.get_close_matches(str(label), missing, n=1)
                if hint:
                    missing.remove(hint[0])
                self.problems.append(parsed.problem((*where, "buttons", label), f"{here}: "
                                                    f"extra: button '{label}' is not in the "
                                                    f"source{did_you_mean(str(label), source)}"))
        for label in missing:
            self.problems.append(parsed.problem((*where, "buttons") if "buttons" in body
                                                else where, f"{here}: missing: button "
                                                f"'{label}'"))
        good = all(self._text(parsed, (*where, "buttons", label), got[label], label, LABEL_LIMIT,
                              labelling, f"{here}, button '{label}'")
                   for label in wanted if label in got)
        if not source or not good:
            return None
        return tuple(str(got.get(label, label)) for label in source)


def _markup_problems(text: str, source: str) -> Iterator[str]:
    """Bold and italic marks that do not pair up show as stray asterisks."""
    if text.count("**") % 2 and not source.count("**") % 2:
        yield "a '**' without its pair (bold needs **two** on each side)"
