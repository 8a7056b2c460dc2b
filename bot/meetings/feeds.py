"""Meeting feeds given by address (`meetings.sources: [https://...]`), kept fresh.

Intergroups publish their meeting lists at a fixed address and change them every week.
Each feed is fetched at start and every `meetings.refresh_minutes`, with a conditional
request (If-None-Match / If-Modified-Since: an unchanged feed costs a 304) and a timeout.
What was last fetched and read well is kept on disk beside the database, so a feed that is
down, or that comes back broken, leaves the last good copy in use (said once in the log,
and again when it recovers). Fetching runs on a thread of its own, never the engine's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.meetings.load import load_files, summary
from bot.meetings.model import Meeting

log = logging.getLogger(__name__)

TIMEOUT = 20.0  # seconds for one fetch


def is_address(source: str) -> bool:
    return source.startswith(("https://", "http://"))


@dataclass
class Feed:
    url: str
    folder: Path  # where the last good copy and its validators are kept
    timeout: float = TIMEOUT
    failing: bool = field(default=False, init=False)  # said in the log once per outage

    @property
    def copy(self) -> Path:
        """The last good copy: a file load_files reads like any other (.json)."""
        return self.folder / f"feed-{hashlib.sha256(self.url.encode()).hexdigest()[:16]}.json"

    @property
    def _validators(self) -> Path:
        return self.copy.with_suffix(".meta")

    def refresh(self) -> bool:
        """Fetch if changed; True when a new good copy was saved. Never raises."""
        request = urllib.request.Request(self.url, headers=self._conditional())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
                validators = {"etag": response.headers.get("ETag"),
                              "modified": response.headers.get("Last-Modified")}
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection
            if exc.code == 304:  # not modified: the copy is current
                self._recovered()
                return False
            return self._failed(f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return self._failed(type(getattr(exc, "reason", exc)).__name__)
        try:
            data = json.loads(body)
        except ValueError:
            return self._failed("not JSON")
        if not isinstance(data, list | dict):
            return self._failed("not a list of meetings")
        self.folder.mkdir(parents=True, exist_ok=True)
        _write(self.copy, body)
        _write(self._validators, json.dumps(validators).encode())
        self._recovered()
        return True

    def _conditional(self) -> dict[str, str]:
        if not self.copy.exists():
            return {}  # no copy to fall back on: ask for the whole feed
        try:
            validators = json.loads(self._validators.read_text())
        except (OSError, ValueError):
            return {}
        headers = {}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("modified"):
            headers["If-Modified-Since"] = validators["modified"]
        return headers

    def _failed(self, why: str) -> bool:
        if not self.failing:
            kept = "the last good copy is used" if self.copy.exists() else \
                "no copy of it yet: its meetings are missing"
            log.warning("meeting feed %s could not be read (%s); %s until it can",
                        self.url, why, kept)
        self.failing = True
        return False

    def _recovered(self) -> None:
        if self.failing:
            log.info("meeting feed %s can be read again", self.url)
        self.failing = False


def _write(path: Path, content: bytes) -> None:
    """Whole or not at all: a reader never sees half a file."""
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


class MeetingSources:
    """The operator's meeting lists, files and feeds: loads them (a summary line per list
    in the log) and refreshes the feeds."""

    def __init__(self, sources: tuple[str, ...], folder: Path, timezone: str):
        self.sources = sources
        self.timezone = timezone
        self.feeds = {s: Feed(s, folder) for s in sources if is_address(s)}

    def refresh(self) -> bool:
        """Fetch every feed (if changed); True when any has a new copy."""
        return any([feed.refresh() for feed in self.feeds.values()])  # every one, not any

    def load(self) -> list[Meeting]:
        files = {s: self.feeds[s].copy if s in self.feeds else Path(s) for s in self.sources}
        readable = {s: path for s, path in files.items()
                    if s not in self.feeds or path.exists()}  # a feed never fetched yet
        meetings, problems = load_files(readable.values(), self.timezone)
        for source, path in readable.items():
            line = summary(str(path), meetings, problems)
            if source in self.feeds:
                line = f"{source} (copy {line})"
            bad = any(p.file == str(path) for p in problems)
            (log.warning if bad else log.info)("meeting list %s", line)
        for problem in problems:
            log.debug("meeting list: %s", problem)
        return meetings
