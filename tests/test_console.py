"""The terminal chat, driven through stdin/stdout of a real `python -m bot chat` process."""

from __future__ import annotations

import contextlib
import os
import pty
import queue
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real `python -m bot chat` process per test: ~75 s in all

ROOT = Path(__file__).resolve().parent.parent


def chat_command(db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bot", "chat", "--db", str(db),
            "--dialogs", str(ROOT / "dialogs"), *extra]


def run_chat(db: Path, lines: list[str], *extra: str) -> str:
    result = subprocess.run(chat_command(db, *extra), input="\n".join(lines) + "\n",
                            capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_start_answers_with_numbered_buttons(tmp_path: Path) -> None:
    out = run_chat(tmp_path / "c.db", ["/start"])
    assert "bot> Hi, I'm your SMART coach." in out
    assert "     1. How does this work?\n     2. Is this private?\n     3. Let's begin" in out


def test_buttons_by_number_or_label_and_commands(tmp_path: Path) -> None:
    out = run_chat(tmp_path / "c.db", ["/start", "3", "drinking", "my health", "9",
                                       "not now", "about this coach", "what is smart recovery?",
                                       "/cancel", "/nonsense"])
    assert "bot> What would you like to change?" in out
    assert "bot> Thank you. I'll keep your reason in mind: my health." in out
    assert "\x1b" not in out  # bold and italic only in a terminal, not into a pipe
    assert "bot> SMART Recovery is a science-based self-help approach" in out
    assert "bot> Okay, we've stopped there." in out
    assert "bot> I don't know /nonsense." in out
    assert "(type a number)" in out  # the 0-10 question says it takes a typed number


def test_two_people_are_kept_apart(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    run_chat(db, ["/start", "3", "gambling", "my savings"], "--user", "1")
    run_chat(db, ["/start", "3", "drinking"], "--user", "2")
    first = run_chat(db, [], "--user", "1")
    second = run_chat(db, [], "--user", "2")
    assert "how important is this change" in first
    assert "What's one reason this change matters to you?" in second


def test_quit_leaves_and_the_conversation_waits(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    out = run_chat(db, ["/start", "/quit", "3"])
    assert "What would you like to change?" not in out  # nothing after /quit was read
    again = run_chat(db, [])
    assert "bot> Welcome back. Here's where we left off:" in again
    assert "3. Let's begin" in again


def test_location_can_be_shared_in_the_console(tmp_path: Path) -> None:
    out = run_chat(tmp_path / "c.db", ["/location 51.5 -0.12"])
    # No step asks for a place: a location shared anyway means "meetings near here".
    assert "bot> Meetings near you, nearest first" in out


def test_kill_9_mid_dialog_then_restart_continues_at_the_same_step(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with subprocess.Popen(chat_command(db), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, cwd=ROOT) as proc:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdin is not None and proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True).start()

        def wait_for(text: str) -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if text in lines.get(timeout=0.5):
                        return
                except queue.Empty:
                    continue
            raise AssertionError(f"the chat never printed {text!r}")

        for typed, expected in [("/start", "3. Let's begin"),
                                ("3", "What would you like to change?"),
                                ("cannabis", "What's one reason")]:
            proc.stdin.write(typed + "\n")
            proc.stdin.flush()
            wait_for(expected)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    out = run_chat(db, ["better memory"])
    assert "bot> Welcome back. Here's where we left off:\nbot> What's one reason" in out
    assert "bot> On a scale of 0 to 10, how important is this change" in out


def test_invalid_dialogs_stop_the_chat_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "dialogs"
    shutil.copytree(ROOT / "dialogs", bad)
    text = (ROOT / "dialogs" / "start.yaml").read_text().replace("to: ask_focus}",
                                                                 "to: ask_focuss}", 1)
    (bad / "start.yaml").write_text(text)
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db", str(tmp_path / "c.db"),
                             "--dialogs", str(bad)], input="", capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1
    line = text.splitlines().index(next(x for x in text.splitlines() if "ask_focuss" in x)) + 1
    assert (f"{bad / 'start.yaml'}:{line}: state 'welcome', button 3 'Let's begin' goes to "
            "unknown state 'ask_focuss' (did you mean 'ask_focus'?)") in result.stderr
    assert result.stderr.endswith("1 problem in the dialogs; fix them and start again.\n")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "c.db").exists()  # refused before touching the database


def test_exports_are_private_kept_apart_and_forgotten(tmp_path: Path) -> None:
    """They went to the current folder, readable by everyone, each over the last one, and
    /forget neither removed nor mentioned them."""
    db = tmp_path / "data" / "c.db"
    out = run_chat(db, ["/start", "3", "drinking", "/export", "/export"])
    exports = tmp_path / "data" / "exports" / "1"
    files = sorted(exports.iterdir())
    assert len(files) == 2  # the second did not overwrite the first
    for file in files:
        assert f"[file saved: {file}" in out
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not list(ROOT.glob("smart-coach-*.json"))  # nothing in the current folder
    out = run_chat(db, ["/forget", "1"])
    assert not exports.exists()
    assert f"your exported files in {exports} were deleted too" in out


def test_an_operators_config_does_not_fill_the_chat_with_log_lines(tmp_path: Path) -> None:
    """With a config (logging at INFO for the service), the terminal chat printed every
    state transitions entered and left between the bot's replies."""
    config = tmp_path / "config.yaml"
    config.write_text("helplines: [{name: Leeds Line, phone: '0113 496 0000', hours: 24/7}]\n")
    result = subprocess.run(chat_command(tmp_path / "c.db", "--config", str(config)),
                            input="/helpline\n", capture_output=True, text=True, timeout=30,
                            cwd=ROOT)
    assert "Leeds Line: 0113 496 0000\n     Open day and night" in result.stdout
    assert " INFO " not in result.stdout + result.stderr and \
        "INFO transitions" not in result.stderr


def test_the_chat_can_be_an_app_in_another_language(tmp_path: Path) -> None:
    """`chat --language es`: what a Spanish phone would report; /language still changes it."""
    out = run_chat(tmp_path / "c.db", ["/start", "/language", "English"], "--language", "es")
    assert "Hola, soy tu coach de SMART." in out
    assert "Okay, I'll speak English from now on." in out


def test_the_chat_names_the_dialogs_folder_it_uses(tmp_path: Path) -> None:
    """It silently took ./dialogs when there was one: a counsellor editing a copy could not
    tell whether the chat used it."""
    shutil.copytree(ROOT / "dialogs", tmp_path / "dialogs")
    result = subprocess.run([sys.executable, "-m", "bot", "chat", "--db",
                             str(tmp_path / "c.db")], input="", capture_output=True,
                            text=True, timeout=30, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    count = len([p for p in (tmp_path / "dialogs").glob("*.yaml") if p.name != "messages.yaml"])
    assert f"dialogs: {tmp_path / 'dialogs'} ({count} dialogs, in en and es)\n" in result.stdout


def test_bold_and_italic_in_a_terminal_plain_elsewhere(tmp_path: Path) -> None:
    """A terminal (a pty here) gets ANSI bold and italic; the chat printed **bold** as
    plain text everywhere. Into a pipe it stays plain (test_buttons_by_number...)."""
    main, terminal = pty.openpty()
    typed = "\n".join(["/start", "3", "drinking", "my health", "9", "/urge", "7"]) + "\n"
    with subprocess.Popen(chat_command(tmp_path / "c.db"), stdin=subprocess.PIPE,
                          stdout=terminal, stderr=subprocess.DEVNULL, cwd=ROOT,
                          env={**os.environ, "TERM": "xterm", "NO_COLOR": ""}) as proc:
        os.close(terminal)
        chunks: list[bytes] = []

        def read() -> None:
            with contextlib.suppress(OSError):  # EIO once the chat has closed it
                while chunk := os.read(main, 4096):
                    chunks.append(chunk)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert proc.stdin is not None
        proc.stdin.write(typed.encode())
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        reader.join(timeout=5)
    os.close(main)
    out = b"".join(chunks).decode().replace("\r\n", "\n")  # a terminal ends lines so
    assert "I'll keep your reason in mind: \x1b[1mmy health\x1b[22m." in out
    assert "You told me: \x1b[3mmy health\x1b[23m." in out


def test_pictures_and_files_are_saved_privately_and_their_paths_printed(
        tmp_path: Path) -> None:
    """The progress chart showed as "[picture, 30809 bytes]": nothing to look at."""
    data = tmp_path / "data"
    out = run_chat(data / "c.db", ["/progress", "/export"])
    folder = data / "exports" / "1"
    picture = next(folder.glob("picture-*.png"))
    assert re.fullmatch(r"picture-\d{8}-\d{6}\.png", picture.name)
    assert f"bot> [picture saved: {picture}, {picture.stat().st_size} bytes" in out
    assert picture.read_bytes().startswith(b"\x89PNG")
    export = next(folder.glob("*.json"))
    assert f"bot> [file saved: {export}" in out
    for file in (picture, export):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_wait_brings_the_check_back_and_the_daily_nudge_now(tmp_path: Path) -> None:
    """A 15-minute check-back could only be tried by waiting 15 minutes."""
    out = run_chat(tmp_path / "c.db", [
        "/urge", "7", "Put it off for 15 minutes",
        "/wait 10m",  # not yet
        "/wait 5m",
        "/reminder 20:30 Europe/London",
        "/wait 1d",
        "/wait soon"])
    ten, five, day = out.split("later]\n")[1:4]
    assert "[Nothing was due. The chat's clock: " in ten and "10 minutes ahead of yours" in ten
    assert "bot> It's been 15 minutes. How strong is the urge now, 0 to 10? It was 7." in five
    assert "15 minutes ahead of yours]" in five
    assert re.search(r"\[\w{3} \d+ \w{3} \d\d:\d\d\]\nbot> Time for your daily check-in", day)
    assert "1 day 15 minutes ahead of yours]" in day
    assert "[/wait takes how long to wait: 30s, 15m, 2h or 1d]" in out
