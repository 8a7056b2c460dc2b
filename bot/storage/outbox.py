"""Replies waiting to be delivered, as JSON (the outbox).

A step's replies are saved in the same transaction as the step, and deleted once the
channel has delivered them. After a crash the rows left are the replies nobody received:
they are sent at the next start. Bytes (a chart, an export file) travel as base64.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.events import Button, Drawing, Location, Outgoing, Priority, Venue


@dataclass(frozen=True, slots=True)
class Unsent:
    """A reply saved with its step but not yet confirmed delivered."""

    user_id: int
    created_at: datetime
    reply: Outgoing  # its outbox_id set


def encode(reply: Outgoing) -> str:
    data: dict[str, Any] = {"text": reply.text}
    if reply.buttons:
        data["buttons"] = [[b.label, b.data] for b in reply.buttons]
    if reply.photo is not None:
        data["photo"] = _b64(reply.photo)
    if reply.location is not None:
        data["location"] = [reply.location.latitude, reply.location.longitude]
    if reply.venue is not None:
        v = reply.venue
        data["venue"] = [v.latitude, v.longitude, v.title, v.address]
    if reply.document is not None:
        data["document"] = [reply.document[0], _b64(reply.document[1])]
    if reply.expect is not None:
        data["expect"] = reply.expect
    if reply.drawing is not None:
        data["drawing"] = [reply.drawing.picture, reply.drawing.data]
    if reply.priority is not Priority.REPLY:
        data["priority"] = int(reply.priority)
    return json.dumps(data, ensure_ascii=False)


def decode(raw: str, outbox_id: int) -> Outgoing:
    data = json.loads(raw)
    location = data.get("location")
    venue = data.get("venue")
    document = data.get("document")
    return Outgoing(
        text=data["text"],
        buttons=tuple(Button(label, value) for label, value in data.get("buttons", [])),
        photo=base64.b64decode(data["photo"]) if "photo" in data else None,
        location=Location(*location) if location else None,
        venue=Venue(*venue) if venue else None,
        document=(document[0], base64.b64decode(document[1])) if document else None,
        expect=data.get("expect"),
        drawing=Drawing(*data["drawing"]) if "drawing" in data else None,
        # "urgent" was the crisis reply's mark before priorities (outboxes of older versions)
        priority=Priority(data.get("priority", Priority.CRISIS if data.get("urgent")
                                    else Priority.REPLY)),
        outbox_id=outbox_id,
    )


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


class OutboxRows(Protocol):
    def mark_delivered(self, outbox_ids: list[int]) -> None: ...

    def unsent(self) -> list[Unsent]: ...


class Deliveries:
    """Replies the channel has delivered, until the database knows. The confirmation rides
    on the next step's transaction (the engine takes them), or on `flush` when no step
    comes first: either is a few milliseconds away, which is the only window in which a
    crash can make a reply go out twice. `delivered` may be called from any thread; the
    rest run on the engine thread."""

    def __init__(self, store: OutboxRows, now: Callable[[], datetime]):
        self._store = store
        self._now = now
        self._ids: deque[int] = deque()

    def delivered(self, outbox_ids: Iterable[int]) -> None:
        self._ids.extend(outbox_ids)

    def take(self) -> list[int]:
        """Every delivery not yet confirmed, for a step's transaction to confirm."""
        taken = []
        with contextlib.suppress(IndexError):  # deque.popleft is atomic across threads
            while True:
                taken.append(self._ids.popleft())
        return taken

    def give_back(self, outbox_ids: list[int]) -> None:
        """The step that was to confirm them failed: they wait for the next."""
        self._ids.extend(outbox_ids)

    def flush(self) -> None:
        """Confirm the deliveries no step has carried yet."""
        taken = self.take()
        if taken:
            try:
                self._store.mark_delivered(taken)
            except BaseException:
                self.give_back(taken)
                raise

    def unsent(self, max_age: timedelta, user_id: int | None = None) -> list[Unsent]:
        """Replies a crash kept from being delivered (to everyone, or to one person), to
        send now; those older than max_age are out of context by now, and are dropped."""
        now = self._now()
        pending = [u for u in self._store.unsent() if user_id in (None, u.user_id)]
        stale = [u.reply.outbox_id for u in pending if now - u.created_at > max_age]
        if stale:
            self._store.mark_delivered([i for i in stale if i is not None])
        return [u for u in pending if now - u.created_at <= max_age]
