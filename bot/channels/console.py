"""The terminal chat: the engine in a terminal, for dialog authors and first-time users.

Messages are printed with bold and italic where the terminal shows them (ANSI), as plain
text elsewhere; buttons become numbered choices (type the number or the words: the engine
matches either); commands work as on Telegram; `/location LAT LON` shares a location;
pictures and files are saved beside the database and their paths printed; follow-ups and
nudges arrive by themselves while the chat runs, and `/wait 15m` moves the chat's clock
forward to bring them now. Same engine, same database as the Telegram bot.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.channels.base import Capabilities, Host
from bot.clock import OffsetClock
from bot.dialog.registry import parse_duration
from bot.dialog.render import to_plain
from bot.errors import BotError
from bot.events import Incoming, Outgoing

CHANNEL = "terminal"  # the people table's name for the chat's user numbers
QUIT = {"/quit", "/exit"}
WAIT = "/wait"
HINTS = {"number": "(type a number)", "location": "(share one with /location LAT LON)"}
# Telegram's HTML subset as ANSI: bold and italic each end with their own reset (22, 23),
# so one inside the other ends right.
ANSI = {"<b>": "\x1b[1m", "</b>": "\x1b[22m", "<i>": "\x1b[3m", "</i>": "\x1b[23m"}
_TAG = re.compile(r"<[^>]+>")
PICTURES = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif", b"<svg": ".svg"}


def styled(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether to print bold and italic: to a terminal that shows them (not TERM=dumb),
    unless NO_COLOR is set (https://no-color.org); never into a file or a pipe."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        tty = False
    return tty and env.get("TERM", "") != "dumb" and not env.get("NO_COLOR")


def to_ansi(text: str) -> str:
    """Telegram HTML as ANSI bold and italic (other tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub(lambda m: ANSI.get(m.group(0), ""), text))


def words(delta: timedelta) -> str:
    """1 day 2 hours, 15 minutes, 30 seconds (to the nearest second)."""
    seconds, parts = round(delta.total_seconds()), []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "no time"


class ConsoleChat:
    """The terminal chat: one person (`user_id`), typing."""

    capabilities = Capabilities("terminal chat", markup=False)

    def __init__(self, app: Host, user_id: int, stdin: TextIO, stdout: TextIO,
                 database: Path | str = "", language: str | None = None,
                 dialogs: Path | None = None, style: bool = False):
        self.app, self.user_id = app, user_id  # the number typed after --user
        self.dialogs = dialogs  # the folder the dialogs came from, named at the start
        self.style = style  # bold and italic as ANSI (see `styled`)
        if style:
            self.capabilities = Capabilities("terminal chat", markup=True)
        # As if this terminal were an app in that language (Telegram's language_code):
        # what a person's first message decides, /language changes.
        self.language = language
        self.person = 0  # who that is here (App.person), known once the chat runs
        self._in, self._out = stdin, stdout
        self._waiting = False  # during /wait: timed replies show when they arrive
        self._shown_time = ""
        self._database = database

    async def open(self) -> int:
        # The terminal chat's user 5 is its own person, never Telegram user 5.
        self.person = await self.app.person(CHANNEL, str(self.user_id))
        self._print(f"smart-coach chat · you are user {self.user_id} · "
                    f"database {self._database}")
        if self.dialogs is not None:
            self._print(f"dialogs: {self.dialogs} ({self._dialogs_summary()})")
        self._print("Type /start to begin, /help for the menu, /wait 15m to move the "
                    "clock on, /quit to leave.\n")
        return self.person  # the console shares the database: only their replies resent

    async def close(self) -> None:
        pass

    async def run(self) -> None:
        await self.app.run(self, asyncio.Event())

    async def serve(self, stop: asyncio.Event) -> None:
        """Where the person left off, then what they type, until /quit or the end of the
        input. Follow-ups and nudges arrive by themselves while the chat waits."""
        resumed = await self.app.resume(self.person)
        for reply in resumed:
            await self._show(reply)
        if resumed:
            self._print("")
        lines = self._read_lines()
        while not stop.is_set() and (line := await lines.get()) is not None:
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT:
                break
            if text.split()[0].lower() == WAIT:
                await self._wait(text)
                continue
            if await self.app.handle(self.to_event(text), self._step):
                self._print("")
            await self._after_forget()

    def to_event(self, text: str) -> Incoming:
        """Typed input as an event. A choice's number or words go as text: the engine
        presses the matching button, exactly as it does for text typed on Telegram."""
        if text.lower().startswith("/location"):
            parts = text.replace(",", " ").split()[1:]
            try:
                lat, lon = (float(p) for p in parts)
                return replace(Incoming.shared_location(self.person, lat, lon),
                               language=self.language)
            except ValueError:
                pass  # falls through to the engine as an unknown command
        return replace(Incoming.message(self.person, text), language=self.language)

    async def deliver(self, user_id: int, reply: Outgoing) -> bool:
        """A reply arriving on its own (a follow-up, a nudge, one a stop kept): set apart
        by a blank line; during /wait, under the time it arrives at."""
        if self._waiting:
            at = self._clock_time()
            if at != self._shown_time:
                self._print(f"[{at}]")
                self._shown_time = at
        await self._show(reply)
        self._print("")
        return True

    async def _step(self, user_id: int, reply: Outgoing) -> bool:
        return await self._show(reply)

    async def _show(self, reply: Outgoing) -> bool:
        if reply.text:
            self._print("bot> " + self._text(reply.text).replace("\n", "\n     "))
        if reply.location:
            self._print(f"bot> [location {reply.location.latitude}, "
                        f"{reply.location.longitude}]")
        if reply.document:
            name, content = reply.document
            path = self._save_privately(name, content)
            self._print(f"bot> [file saved: {path}, {len(content)} bytes, readable by you "
                        "only; /forget deletes it]")
        if reply.venue:
            self._print(f"bot> [map: {reply.venue.title}, {reply.venue.address}]")
        if reply.photo:
            path = self._save_privately("picture" + _picture_suffix(reply.photo), reply.photo)
            self._print(f"bot> [picture saved: {path}, {len(reply.photo)} bytes, readable "
                        "by you only]")
        for number, button in enumerate(reply.buttons, 1):
            self._print(f"     {number}. {button.label}")
        if reply.expect in HINTS:
            self._print(f"     {HINTS[reply.expect]}")
        return True

    async def _wait(self, text: str) -> None:
        """`/wait 15m`: the chat's clock moves on, and what falls due in that time comes
        now (App.wait), in order, each reply printed as it would have arrived."""
        delta = parse_duration(text[len(WAIT):].strip())
        if delta is None or not delta:
            self._print("[/wait takes how long to wait: 30s, 15m, 2h or 1d]\n")
            return
        self._print(f"[{words(delta)} later]")
        self._waiting, self._shown_time = True, ""
        try:
            await self.app.wait(delta)
        except BotError as exc:
            self._print(f"[{exc}]\n")
            return
        finally:
            self._waiting = False
        clock = self.app.clock
        ahead = f", {words(clock.offset)} ahead of yours" \
            if isinstance(clock, OffsetClock) else ""
        came = bool(self._shown_time)  # (a look of the scheduler's own may have sent it)
        self._print(f"[{'Nothing was due. ' if not came else ''}The chat's clock: "
                    f"{self._clock_time()}{ahead}]\n")

    def _clock_time(self) -> str:
        """The chat's time in the terminal's own time zone: Tue 1 Dec 20:30."""
        now = self.app.clock.now().astimezone()
        return f"{now:%a} {now.day} {now:%b %H:%M}"

    def _dialogs_summary(self) -> str:
        catalog = self.app.catalog
        count = len(catalog.dialogs)
        others = sorted(set(catalog.languages) - {catalog.source})
        languages = [catalog.source, *others]
        spoken = languages[0] if len(languages) == 1 else \
            f"{', '.join(languages[:-1])} and {languages[-1]}"
        return f"{count} dialog{'s' if count != 1 else ''}, in {spoken}"

    @property
    def exports(self) -> Path:
        """This person's files (exports, pictures), beside the database: never the
        current folder."""
        return self.app.data_dir / "exports" / str(self.user_id)

    def _save_privately(self, name: str, content: bytes) -> Path:
        """A new file each time (time-stamped), created readable by its owner only."""
        self.exports.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem, dot, suffix = Path(name).name.partition(".")
        stamp = self.app.clock.now().strftime("%Y%m%d-%H%M%S")
        for n in range(1, 1000):
            path = self.exports / f"{stem}-{stamp}{f'-{n}' if n > 1 else ''}{dot}{suffix}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as file:
                file.write(content)
            return path
        raise FileExistsError(self.exports)

    async def _after_forget(self) -> None:
        """/forget deletes every row about the person; their exported files go too, and
        whatever they type next is a new person's, with nothing of the old one."""
        if await self.app.known(self.person):
            return
        self.person = await self.app.person(CHANNEL, str(self.user_id))
        if self.exports.exists():
            shutil.rmtree(self.exports)
            self._print(f"bot> [your exported files in {self.exports} were deleted too]\n")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _text(self, text: str) -> str:
        return to_ansi(text) if self.style else to_plain(text)

    def _read_lines(self) -> asyncio.Queue[str | None]:
        """Lines from stdin on a daemon thread, so Ctrl-C never waits for a blocked read."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            for line in iter(self._in.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="stdin", daemon=True).start()
        return queue


def _picture_suffix(data: bytes) -> str:
    return next((suffix for magic, suffix in PICTURES.items() if data.startswith(magic)), "")
