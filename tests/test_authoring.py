"""What a counsellor uses from the installed command (issue 17): `smart-coach new-dialog`
writes a tool that validates and plays at once; `smart-coach test` plays transcripts on any
dialogs folder and shows what differs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def coach(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A counsellor's copy of the dialogs, outside the repository."""
    shutil.copytree(ROOT / "dialogs", tmp_path / "dialogs")
    return tmp_path


@pytest.mark.slow  # the command run five times: ~4 s
def test_a_new_dialog_validates_opens_and_plays_its_transcript(copy: Path) -> None:
    made = coach("new-dialog", "sleep", "--dialogs", "dialogs", cwd=copy)
    assert made.returncode == 0, made.stderr
    assert "wrote dialogs/sleep.yaml" in made.stdout
    assert (copy / "dialogs" / "es" / "sleep.yaml").is_file()  # the bot runs in Spanish too
    assert (copy / "tests" / "transcripts" / "sleep.yaml").is_file()
    assert coach("validate", "dialogs", cwd=copy).returncode == 0
    played = coach("test", "--dialogs", "dialogs", cwd=copy)
    assert played.returncode == 0, played.stderr
    assert played.stdout == "1 transcript: 1 as written.\n"
    again = coach("new-dialog", "sleep", "--dialogs", "dialogs", cwd=copy)
    assert again.returncode == 1 and "dialogs/sleep.yaml exists already" in again.stderr
    assert coach("new-dialog", "Sleep!", "--dialogs", "dialogs", cwd=copy).returncode == 1


@pytest.mark.slow  # ~2 s
def test_a_transcript_that_differs_is_shown_with_its_line(copy: Path) -> None:
    coach("new-dialog", "sleep", "--dialogs", "dialogs", cwd=copy)
    dialog = copy / "dialogs" / "sleep.yaml"
    dialog.write_text(dialog.read_text().replace("And is it B?", "Is it B, then?"))
    played = coach("test", "--dialogs", "dialogs", "tests/transcripts/sleep.yaml", cwd=copy)
    assert played.returncode == 1
    assert played.stdout == "1 transcript: 0 as written, 1 differ.\n"
    assert played.stderr.splitlines()[:5] == [
        "tests/transcripts/sleep.yaml:6: step 2 (press: 'Yes')",
        "  the replies differ (- expected to contain, + what came):",
        "  reply 1:",
        "  - And is it B?",
        "  + Is it B, then?"]


@pytest.mark.slow  # ~1 s
def test_invalid_dialogs_are_listed_before_any_transcript(copy: Path) -> None:
    help_file = copy / "dialogs" / "help.yaml"
    help_file.write_text(help_file.read_text().replace("start: menu", "start: manu"))
    played = coach("test", "--dialogs", "dialogs", cwd=copy)
    assert played.returncode == 2
    assert "dialogs/help.yaml:11: start: unknown state 'manu' (did you mean 'menu'?)" in \
        played.stderr
