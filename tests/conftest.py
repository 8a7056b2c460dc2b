"""Shared fixtures. No test touches the network or the user's real data folder.

Randomness is repeatable: every run uses the same seed (`seed`, and the same hypothesis
examples) unless SMART_COACH_TEST_SEED asks for another: a number, or `random` for a new
one. The seed is printed in the header and beside every failure of a test that uses it.
`pytest -m "not slow"` is the quick inner loop; plain `pytest` (CI) runs everything."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings

from tests.emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parent.parent
DIALOGS = ROOT / "dialogs"
FIGURES = pytest.StashKey[list[str]]()  # measured by tests, printed at the end of the run

SEED_VARIABLE = "SMART_COACH_TEST_SEED"
DEFAULT_SEED = 20240601


def _asked_seed() -> int | None:
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return None
    if value.lower() == "random":
        return random.SystemRandom().randrange(2**32)
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"{SEED_VARIABLE} must be a number or 'random', "
                                f"not {value!r}") from None


ASKED_SEED = _asked_seed()  # chosen once, when pytest loads this file
SEED = DEFAULT_SEED if ASKED_SEED is None else ASKED_SEED
# Hypothesis: the same examples on every run (derandomize, no example database) unless a
# seed was asked for; then that seed drives them (pytest_configure below).
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("seeded", database=None, print_blob=True)
settings.load_profile("repeatable" if ASKED_SEED is None else "seeded")


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    if ASKED_SEED is not None and config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(ASKED_SEED)


def pytest_report_header() -> str:
    how = "fixed" if ASKED_SEED is None else f"from {SEED_VARIABLE}"
    return f"test seed: {SEED} ({how}; {SEED_VARIABLE}=<number>|random for another)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Slow by what they use, not one by one: test_meetings.py's tests that play the real
    # dialogs (~8 s in all), and test_intent_weights.py's that train the models with
    # scikit-learn (the `trained` fixture, ~6 s).
    for item in items:
        uses = getattr(item, "fixturenames", ())
        if (item.path.name == "test_meetings.py" and "dialogs_dir" in uses
                or item.path.name == "test_intent_weights.py" and "trained" in uses):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def seed() -> int:
    """The seed for a test's own random.Random: fixed unless SMART_COACH_TEST_SEED is set."""
    return SEED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                       pytest.TestReport]:
    report = yield
    random_test = "seed" in getattr(item, "fixturenames", ()) or getattr(
        getattr(item, "obj", None), "is_hypothesis_test", False)
    if report.failed and random_test:
        how = (f"{SEED_VARIABLE}={SEED} repeats this run" if ASKED_SEED is not None else
               f"the fixed seed {SEED}, and fixed hypothesis examples: a plain run repeats it")
        report.sections.append(("random seed", how))
    return report


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


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from ~/.local/share and from the network."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
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
