"""Shared fixtures. No test touches the network or the user's real data folder."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
DIALOGS = ROOT / "dialogs"
FIGURES = pytest.StashKey[list[str]]()  # measured by tests, printed at the end of the run


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> list[str]:
    """Append a line here and it is printed in the run's summary."""
    return request.config.stash.setdefault(FIGURES, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures measured by the tests")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of trained intent models for the whole run (subprocesses included)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> None:
    """Keep every test away from ~/.local/share and from the network."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("SMART_COACH_CACHE", str(model_cache))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    # As TelegramChannel does: python-telegram-bot's timedelta time periods, no warnings.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
                "127.0.0.1", "::1", "localhost"):
            raise OSError(f"tests must not reach the network ({host})")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def dialogs_dir() -> Path:
    return DIALOGS


MINIMAL_HELP = """\
dialog: help
command: help
description: What I can do
start: menu
states:
  menu:
    say: How can I help?
    end: true
"""


@pytest.fixture
def write_dialogs(tmp_path: Path):
    """Write a dialogs folder from {filename: text}; messages.yaml and a minimal help
    dialog are added unless given (every folder needs both)."""
    def write(files: dict[str, str], with_messages: bool = True) -> Path:
        folder = tmp_path / "dialogs"
        folder.mkdir(exist_ok=True)
        if with_messages and "messages.yaml" not in files:
            (folder / "messages.yaml").write_text((DIALOGS / "messages.yaml").read_text())
        if with_messages and not any("command: help" in text for text in files.values()):
            (folder / "zz_help.yaml").write_text(MINIMAL_HELP)
        for name, text in files.items():
            (folder / name).write_text(text)
        return folder
    return write


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """The Bot API emulator on 127.0.0.1, on a free port."""
    emu = BotApiEmulator()
    await emu.start()
    yield emu
    await emu.stop()
