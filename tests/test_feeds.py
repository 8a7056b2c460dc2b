"""Meeting feeds by address, against a local HTTP server: conditional requests, the last
good copy kept through outages and broken answers, and the bot built on a feed."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.config import MeetingsConfig, StorageConfig, load_config
from bot.meetings.feeds import Feed, MeetingSources

MEETINGS = [{"name": "Leeds Tuesday", "day": [2], "time": "7:00 PM", "city": "Leeds",
             "country": "UK", "types": ["O"]},
            {"name": "Online Sunday", "day": 0, "time": "20:00",
             "conference_url": "https://meet.example/x"}]


class FeedServer:
    """Serves one feed with an ETag; `mode` makes it broken or down."""

    def __init__(self) -> None:
        self.body = json.dumps(MEETINGS).encode()
        self.mode = "up"  # up, broken, down
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                server.requests.append(dict(self.headers))
                if server.mode == "down":
                    self.send_error(503)
                    return
                etag = f'"{hash(server.body)}"'
                if self.headers.get("If-None-Match") == etag and server.mode == "up":
                    self.send_response(304)
                    self.end_headers()
                    return
                body = b"<html>Bad gateway</html>" if server.mode == "broken" else server.body
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/meetings.json"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    yield feed
    feed.http.shutdown()
    feed.http.server_close()


def test_conditional_requests_and_the_last_good_copy(server: FeedServer, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    feed = Feed(server.url, tmp_path)
    assert feed.refresh() is True and feed.copy.exists()
    assert "If-None-Match" not in server.requests[0]
    assert feed.refresh() is False  # unchanged: a 304, the copy stays
    assert server.requests[1]["If-None-Match"].startswith('"')
    server.body = json.dumps(MEETINGS[:1]).encode()
    assert feed.refresh() is True and len(json.loads(feed.copy.read_text())) == 1
    for mode in ("down", "down", "broken"):
        server.mode = mode
        with caplog.at_level(logging.WARNING):
            assert feed.refresh() is False
    assert len(json.loads(feed.copy.read_text())) == 1  # the last good copy, kept
    warnings = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(warnings) == 1  # said once, not at every try
    assert "the last good copy is used" in warnings[0].getMessage()
    server.mode = "up"
    with caplog.at_level(logging.INFO):
        feed.refresh()
    assert any("can be read again" in r.getMessage() for r in caplog.records)


def test_a_feed_that_was_never_reached_is_missing_not_fatal(tmp_path: Path) -> None:
    sources = MeetingSources(("http://127.0.0.1:9/meetings.json",), tmp_path, "UTC")
    sources.feeds["http://127.0.0.1:9/meetings.json"].timeout = 1
    assert sources.refresh() is False
    assert sources.load() == []


@pytest.mark.slow  # waits for a refresh: ~2 s
@pytest.mark.asyncio
async def test_the_bot_built_on_a_feed_refreshes_it(server: FeedServer, tmp_path: Path) -> None:
    config = load_config(None, env={})
    config = replace(config, storage=StorageConfig(str(tmp_path / "c.db")),
                     meetings=MeetingsConfig(sources=(server.url,), refresh_minutes=1))
    app = build_app(config)
    assert app.meetings is not None
    sources, index = app.meetings
    assert {m.name for m in index.meetings} == {"Leeds Tuesday", "Online Sunday"}
    server.body = json.dumps(MEETINGS[1:]).encode()
    if sources.refresh():  # what the refresh task does every meetings.refresh_minutes
        index.update(sources.load())
    assert {m.name for m in index.meetings} == {"Online Sunday"}
    app.close()
    server.mode = "down"  # the next start: the feed is down, its last copy is used
    again = build_app(config)
    assert again.meetings is not None
    assert {m.name for m in again.meetings[1].meetings} == {"Online Sunday"}
    again.close()
