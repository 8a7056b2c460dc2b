"""Every transcript in tests/transcripts/ is played against the real dialogs/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.testing import run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))
# Each transcript loads the dialogs afresh (~0.6 s): the quick loop (`-m "not slow"`) plays
# these three (the first steps, a check-in, a crisis); CI plays them all.
QUICK = {"start", "checkin", "crisis"}


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem, marks=() if p.stem in QUICK else pytest.mark.slow)
    for p in TRANSCRIPTS])
def test_transcript(path: Path, dialogs_dir: Path) -> None:
    run_transcript(path, dialogs_dir)


def test_the_quick_transcripts_exist() -> None:
    missing = QUICK - {p.stem for p in TRANSCRIPTS}
    assert not missing, f"QUICK names transcripts that are gone: {sorted(missing)}"


def test_every_dialog_has_a_transcript(dialogs_dir: Path) -> None:
    covered = {p.stem.split("_")[0] for p in TRANSCRIPTS}
    dialogs = {p.stem for p in dialogs_dir.glob("*.yaml")} - {"messages"}
    assert dialogs <= covered, f"dialogs without a transcript: {sorted(dialogs - covered)}"


@pytest.mark.slow  # loads the real dialogs: ~0.7 s
def test_a_transcript_that_differs_names_the_step(tmp_path: Path, dialogs_dir: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - user: /start\n  - user: /help\n    bot: [Goodbye]\n")
    with pytest.raises(AssertionError, match=r"bad.yaml: step 2 \(user: /help\)"):
        run_transcript(bad, dialogs_dir)
