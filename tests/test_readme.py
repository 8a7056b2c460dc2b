"""The README's promises: its dialog example is valid and runs; its commands are the CI's."""

from __future__ import annotations

import re
from pathlib import Path

from bot.dialog.loader import check_directory
from bot.testing import ChatClient
from bot.tools import default_registry

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def example(marker: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.S)
    return next(b for b in blocks if marker in b)


def test_the_dialog_example_validates_and_runs(write_dialogs, dialogs_dir: Path) -> None:
    # Beside onboarding (which saves the `reason` the example shows) and a minimal help.
    folder = write_dialogs({"urge.yaml": example("dialog: urge"),
                            "start.yaml": (dialogs_dir / "start.yaml").read_text(),
                            "reminder.yaml": (dialogs_dir / "reminder.yaml").read_text()})
    catalog, problems = check_directory(folder, default_registry())
    assert problems == []
    assert catalog is not None and "urge" in catalog.dialogs

    chat = ChatClient(folder)
    chat.send("/urge")
    chat.send("8")
    assert chat.texts[-1] == "Which tool would you like to try?"
    chat.press("Remind me why I'm doing this")
    assert chat.texts == ["You told me why this matters: you haven't told me yet."]
    chat.press("Back to the tools")
    chat.press("Put it off for 15 minutes")
    chat.wait(minutes=15)
    assert chat.texts == ["It's been 15 minutes. How strong is it now? (It was 8.)"]
    chat.send("3")
    assert chat.texts == ["It went from 8 to 3. You rode it out."]


def test_ci_runs_the_readme_test_command() -> None:
    command = re.search(r"\*\*Run the tests\*\*.*?```sh\n(.*?)\n```", README, re.S)
    assert command is not None
    assert command.group(1) in (ROOT / ".ci" / "run").read_text()


def test_schema_copy_for_editors_is_identical(dialogs_dir: Path) -> None:
    assert (dialogs_dir / "schema.json").read_bytes() == \
        (ROOT / "bot" / "dialog" / "schema.json").read_bytes()
