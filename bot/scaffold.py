"""`smart-coach new-dialog NAME`: a new tool's files, valid from the first minute, for an
author to change: the dialog (a question, a condition that combines answers, two endings),
its transcript, and for each translation folder an overlay holding the English texts, so
the bot runs while a translator has not come yet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.dialog.translation import translation_folders
from bot.errors import BotError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

DIALOG = """\
# yaml-language-server: $schema=schema.json
# {name}: say in a line what this tool is for. See README, "Adding a tool".
dialog: {name}
title: "{title}"                   # its button in the /help menu
command: {name}                    # /{name} opens it
description: "{title}"             # its line in Telegram's command menu
menu: 100                          # its place in the /help menu (false: not in it)
start: first
states:
  first:
    say: "A first question: is it A?"
    buttons:
      - {{label: "Yes", value: "yes"}}
      - {{label: "No", value: "no"}}
    save: {name}.a
    next: second

  second:
    say: "And is it B?"
    buttons:
      - {{label: "Yes", value: "yes"}}
      - {{label: "No", value: "no"}}
    save: {name}.b
    next:                          # all: every condition holds (also any: and not:)
      - if: {{all: [{{equals: {{{name}.a: "yes"}}}}, {{equals: {{{name}.b: "yes"}}}}]}}
        to: both
      - to: other

  both:
    say: "Both: here is what helps when it is A and B."
    end: true

  other:
    say: "Here is what helps otherwise."
    end: true
"""

TRANSCRIPT = """\
# /{name}, as a person would go through it; `smart-coach test {path}` plays it.
steps:
  - user: /{name}
    bot: ["A first question: is it A?"]
    buttons: ["Yes", "No"]
  - press: "Yes"
    bot: ["And is it B?"]
  - press: "Yes"
    bot: ["Both: here is what helps when it is A and B."]
    answers: {{{name}.a: "yes", {name}.b: "yes"}}
"""

OVERLAY = """\
# {language}: the texts of ../{name}.yaml, still in English until a translator replaces them
# (see README, "Adding a language"). People who read {language} see these texts meanwhile.
dialog: {name}
title: "{title}"
description: "{title}"
states:
  first:
    say: "A first question: is it A?"
    buttons:
      "Yes": "Yes"
      "No": "No"
  second:
    say: "And is it B?"
    buttons:
      "Yes": "Yes"
      "No": "No"
  both:
    say: "Both: here is what helps when it is A and B."
  other:
    say: "Here is what helps otherwise."
"""


@dataclass(frozen=True, slots=True)
class NewDialog:
    dialog: Path
    transcript: Path
    overlays: tuple[Path, ...]


def shown(path: Path) -> Path:
    """A path as a person in the current folder would type it."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def new_dialog(name: str, dialogs: Path, transcripts: Path) -> NewDialog:
    """Write a new dialog's files; raises BotError (saying why) rather than overwrite."""
    if not NAME.match(name):
        raise BotError(f"'{name}' cannot name a dialog: lower-case letters, digits and _, "
                       "starting with a letter (e.g. halt)")
    if not dialogs.is_dir():
        raise BotError(f"{dialogs}: no such folder of dialogs")
    dialog = dialogs / f"{name}.yaml"
    transcript = transcripts / f"{name}.yaml"
    overlays = tuple(folder / f"{name}.yaml" for folder in translation_folders(dialogs))
    for path in (dialog, transcript, *overlays):
        if path.exists():
            raise BotError(f"{path} exists already: choose another name, or edit it")
    title = name.replace("_", " ").capitalize()
    dialog.write_text(DIALOG.format(name=name, title=title), encoding="utf-8")
    transcripts.mkdir(parents=True, exist_ok=True)
    transcript.write_text(TRANSCRIPT.format(name=name, path=shown(transcript)),
                          encoding="utf-8")
    for overlay in overlays:
        overlay.write_text(OVERLAY.format(name=name, title=title,
                                          language=overlay.parent.name), encoding="utf-8")
    return NewDialog(dialog, transcript, overlays)
