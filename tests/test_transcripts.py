"""Every transcript in tests/transcripts/ is played against the real dialogs/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.transcripts import play

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))
# Each transcript loads the dialogs afresh (~0.6 s): the quick loop (`-m "not slow"`) plays
# these three (the first steps, a check-in, a crisis); CI plays them all.
QUICK = {"start", "checkin", "crisis"}


@pytest.mark.parametrize("path", [
    pytest.param(p, id=p.stem, marks=() if p.stem in QUICK else pytest.mark.slow)
    for p in TRANSCRIPTS])
def test_transcript(path: Path, dialogs_dir: Path) -> None:
    difference = play(path, dialogs_dir)
    assert difference is None, str(difference)


def test_the_quick_transcripts_exist() -> None:
    missing = QUICK - {p.stem for p in TRANSCRIPTS}
    assert not missing, f"QUICK names transcripts that are gone: {sorted(missing)}"


def test_every_dialog_has_a_transcript(dialogs_dir: Path) -> None:
    covered = {p.stem.split("_")[0] for p in TRANSCRIPTS}
    dialogs = {p.stem for p in dialogs_dir.glob("*.yaml")} - {"messages"}
    assert dialogs <= covered, f"dialogs without a transcript: {sorted(dialogs - covered)}"


def test_a_transcript_that_differs_names_the_step_and_shows_the_difference(
        tmp_path: Path, dialogs_dir: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - user: /start\n  - user: /help\n    bot: [Goodbye]\n"
                   "    buttons: [\"About this coach\", Nope]\n")
    difference = play(bad, dialogs_dir)
    assert difference is not None
    assert str(difference).splitlines()[:4] == [
        f"{bad}:3: step 2 (user: '/help')",
        "  the replies differ (- expected to contain, + what came):",
        "  reply 1:",
        "  - Goodbye"]
    assert "  + What would you like to do? Tap one, or tell me in your own words." in \
        str(difference)
    assert "  - Nope" in str(difference).splitlines()
    assert "  + Settings" in str(difference).splitlines()
