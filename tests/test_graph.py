"""`smart-coach graph`: mermaid text always; SVG when graphviz is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.dialog.graph import graphviz_available


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_mermaid_diagram_shows_states_buttons_and_conditions(tmp_path: Path, dialogs_dir: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    out = tmp_path / "start.mmd"
    assert main(["graph", "start", "-o", str(out), "--dialogs", str(dialogs_dir)]) == 0
    text = out.read_text()
    assert text.splitlines()[:3] == ["---", "Welcome", "---"]
    assert "stateDiagram-v2" in text
    assert "welcome --> ask_focus: Let's begin" in text
    assert "answer (number) [at_least importance 7]" in _edge(text, "ask_importance --> strong")
    assert _edge(text, "ask_importance --> unsure").endswith("7-10 | answer (number)")
    assert capsys.readouterr().out.strip() == str(out)


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_image_without_graphviz_falls_back_to_mermaid(tmp_path: Path, dialogs_dir: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.dialog.graph.graphviz_available", lambda: False)
    assert main(["graph", "help", "-o", str(tmp_path / "help.svg"),
                 "--dialogs", str(dialogs_dir)]) == 0
    # The menu step: its own button ("About this coach"); the dialogs it lists open by themselves.
    assert (tmp_path / "help.mmd").read_text().count("menu --> ") == 1
    assert "graphviz is not installed" in capsys.readouterr().err


@pytest.mark.skipif(not graphviz_available(), reason="graphviz (python package + dot) missing")
def test_svg_with_graphviz(tmp_path: Path, dialogs_dir: Path) -> None:
    out = tmp_path / "help.svg"
    assert main(["graph", "help", "-o", str(out), "--dialogs", str(dialogs_dir)]) == 0
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_unknown_dialog(tmp_path: Path, dialogs_dir: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "nope", "--dialogs", str(dialogs_dir)]) == 1
    names = sorted(p.stem for p in dialogs_dir.glob("*.yaml") if p.stem != "messages")
    assert f"no dialog 'nope' (there are: {', '.join(names)})" in capsys.readouterr().err


def _edge(text: str, start: str) -> str:
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(start))
