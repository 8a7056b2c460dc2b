"""The terminal chat: the engine in a terminal, for dialog authors and first-time users.

Messages are printed as plain text; buttons become numbered choices (type the number or
the words: the engine matches either); commands work as on Telegram; `/location LAT LON`
shares a location; follow-ups arrive while you wait. Same engine, same database as the Telegram bot.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.channels.base import Capabilities, Host
from bot.dialog.render import to_plain
from bot.events import Incoming, Outgoing

CHANNEL = "terminal"  # the people table's name for the chat's user numbers
QUIT = {"/quit", "/exit"}
HINTS = {"number": "(type a number)", "location": "(share one with /location LAT LON)"}


class ConsoleChat:
    """The terminal chat: one person (`user_id`), typing."""

    capabilities = Capabilities("terminal chat", markup=False)

    def __init__(self, app: Host, user_id: int, stdin: TextIO, stdout: TextIO,
                 database: Path | str = "", language: str | None = None):
        self.app, self.user_id = app, user_id  # the number typed after --user
        # As if this terminal were an app in that language (Telegram's language_code):
        # what a person's first message decides, /language changes.
        self.language = language
        self.person = 0  # who that is here (App.person), known once the chat runs
        self._in, self._out = stdin, stdout
        self._database = database

    async def open(self) -> int:
        # The terminal chat's user 5 is its own person, never Telegram user 5.
        self.person = await self.app.person(CHANNEL, str(self.user_id))
        self._print(f"smart-coach chat · you are user {self.user_id} · "
                    f"database {self._database}")
        self._print("Type /start to begin, /help for the menu, /quit to leave.\n")
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
        by a blank line."""
        await self._show(reply)
        self._print("")
        return True

    async def _step(self, user_id: int, reply: Outgoing) -> bool:
        return await self._show(reply)

    async def _show(self, reply: Outgoing) -> bool:
        if reply.text:
            self._print("bot> " + to_plain(reply.text).replace("\n", "\n     "))
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
            self._print(f"bot> [picture, {len(reply.photo)} bytes]")
        for number, button in enumerate(reply.buttons, 1):
            self._print(f"     {number}. {button.label}")
        if reply.expect in HINTS:
            self._print(f"     {HINTS[reply.expect]}")
        return True

    @property
    def exports(self) -> Path:
        """This person's files (exports), beside the database: never the current folder."""
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
