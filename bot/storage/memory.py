"""An in-memory store for fast tests. Everything goes through JSON, as in SQLite, so a
value that could not be saved for real (a datetime, an object) fails here too."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from bot.events import Incoming, Outgoing
from bot.storage import outbox
from bot.storage.base import (
    CheckinEntry,
    FollowUp,
    JournalEntry,
    Nudge,
    Reminder,
    SavedStep,
    StepWrites,
    UrgeEntry,
    UserRecord,
)
from bot.storage.inbox import decode as decode_event
from bot.storage.inbox import encode as encode_event
from bot.storage.outbox import Unsent


class MemoryStore:
    def __init__(self) -> None:
        self._users: dict[int, str] = {}
        self._answers: dict[int, dict[str, str]] = {}
        self._journal: list[tuple[int, int, str, str, datetime]] = []
        self._followups: dict[int, FollowUp] = {}
        self._next_id = 1
        self._handled: set[int] = set()
        self._urges: list[tuple[int, str]] = []
        self._reminders: dict[int, Reminder] = {}
        self._claimed: dict[int, datetime] = {}
        self._checkins: dict[tuple[int, date], CheckinEntry] = {}
        self._outbox: dict[int, tuple[int, datetime, str]] = {}
        self._inbox: dict[int, str] = {}  # update id -> the event as JSON
        self._lock = threading.Lock()

    def load_user(self, user_id: int) -> UserRecord:
        with self._lock:
            raw = self._users.get(user_id)
            if raw is None:
                return UserRecord(user_id)
            fields = json.loads(raw)
            answers = {k: json.loads(v) for k, v in self._answers.get(user_id, {}).items()}
            return UserRecord(user_id, answers=answers, known=True, **fields)

    def save_step(self, writes: StepWrites, now: datetime) -> SavedStep:
        user = writes.user
        if writes.forget:
            self._forget(user.user_id)
            with self._lock:
                self._delete_delivered(writes.delivered)
                return SavedStep([], self._queue(user.user_id, writes.replies, now))
        fields: dict[str, Any] = {"dialog": user.dialog, "state": user.state,
                                  "language": user.language, "timezone": user.timezone,
                                  "settings": user.settings, "active": user.active}
        encoded = json.dumps(fields)
        set_answers = {k: json.dumps(v) for k, v in writes.set_answers.items()}
        journal = [(kind, json.dumps(data)) for kind, data in writes.journal]
        urges = [json.dumps({**dataclasses.asdict(u), "at": u.at.isoformat()})
                 for u in writes.urges]
        with self._lock:
            self._delete_delivered(writes.delivered)
            self._users[user.user_id] = encoded
            answers = self._answers.setdefault(user.user_id, {})
            answers.update(set_answers)
            for key in writes.removed_answers:
                answers.pop(key, None)
            for kind, data in journal:
                self._journal.append((self._take_id(), user.user_id, kind, data, now))
            if writes.cancel_followups:
                for fid in [f.id for f in self._followups.values()
                            if f.user_id == user.user_id]:
                    del self._followups[fid]
            for fid in [f.id for f in self._followups.values() if f.user_id == user.user_id
                        and f.dialog in writes.cancel_dialogs]:
                del self._followups[fid]
            if writes.done_followup is not None:
                self._followups.pop(writes.done_followup, None)
            if writes.update_id is not None:
                self._handled.add(writes.update_id)
                self._inbox.pop(writes.update_id, None)
            self._urges.extend((user.user_id, raw) for raw in urges)
            if writes.reminder is not None:
                change = writes.reminder
                self._claimed.pop(user.user_id, None)
                if change.local_time is None or change.next_due is None:
                    self._reminders.pop(user.user_id, None)
                else:
                    self._reminders[user.user_id] = Reminder(
                        user.user_id, change.local_time, change.zone, change.next_due)
            if writes.checkin is not None:
                day = (user.user_id, writes.checkin.day)
                earlier = self._checkins.get(day)
                self._checkins[day] = earlier.then(writes.checkin) if earlier \
                    else writes.checkin
            created = []
            for new in writes.new_followups:
                follow = FollowUp(self._take_id(), user.user_id, new.due, new.dialog, new.state)
                self._followups[follow.id] = follow
                created.append(follow)
            if writes.nudge_done:
                self._claimed.pop(user.user_id, None)
            return SavedStep(created, self._queue(user.user_id, writes.replies, now))

    def _queue(self, user_id: int, replies: list[Outgoing], now: datetime) -> list[Outgoing]:
        queued = []
        for reply in replies:
            outbox_id = self._take_id()
            self._outbox[outbox_id] = (user_id, now, outbox.encode(reply))
            queued.append(dataclasses.replace(reply, outbox_id=outbox_id))
        return queued

    def _delete_delivered(self, outbox_ids: list[int]) -> None:
        for outbox_id in outbox_ids:
            self._outbox.pop(outbox_id, None)

    def mark_delivered(self, outbox_ids: list[int]) -> None:
        with self._lock:
            self._delete_delivered(outbox_ids)

    def unsent(self) -> list[Unsent]:
        with self._lock:
            return [Unsent(user_id, at, outbox.decode(raw, outbox_id))
                    for outbox_id, (user_id, at, raw) in sorted(self._outbox.items())]

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def receive(self, events: list[Incoming], now: datetime) -> list[Incoming]:
        fresh = []
        with self._lock:
            for event in events:
                update_id = event.update_id
                if update_id is None or update_id in self._handled or update_id in self._inbox:
                    continue
                self._inbox[update_id] = encode_event(event)
                fresh.append(event)
        return fresh

    def inbox(self) -> list[Incoming]:
        with self._lock:
            return [decode_event(raw) for _, raw in sorted(self._inbox.items())]

    def drop_received(self, update_id: int) -> None:
        with self._lock:
            self._inbox.pop(update_id, None)

    def was_handled(self, update_id: int) -> bool:
        with self._lock:
            return update_id in self._handled

    def followup(self, followup_id: int) -> FollowUp | None:
        with self._lock:
            return self._followups.get(followup_id)

    def pending_followups(self, until: datetime | None = None) -> list[FollowUp]:
        with self._lock:
            found = [f for f in self._followups.values() if until is None or f.due <= until]
        return sorted(found, key=lambda f: (f.due, f.id))

    def followups_of(self, user_id: int) -> list[FollowUp]:
        return [f for f in self.pending_followups() if f.user_id == user_id]

    def journal(self, user_id: int) -> list[JournalEntry]:
        with self._lock:
            return [JournalEntry(i, u, kind, json.loads(data), at)
                    for i, u, kind, data, at in self._journal if u == user_id]

    def urges(self, user_id: int, limit: int = 10) -> list[UrgeEntry]:
        with self._lock:
            mine = [json.loads(raw) for uid, raw in self._urges if uid == user_id]
        entries = [UrgeEntry(**{**m, "at": datetime.fromisoformat(m["at"])}) for m in mine]
        # Newest first, and the later of two at the same moment first, as SQLite does by id.
        order = sorted(range(len(entries)), key=lambda i: (entries[i].at, i), reverse=True)
        return [entries[i] for i in order][:limit]

    def reminder(self, user_id: int) -> Reminder | None:
        with self._lock:
            return self._reminders.get(user_id)

    def checkins(self, user_id: int, since: date) -> list[CheckinEntry]:
        with self._lock:
            found = [c for (u, day), c in self._checkins.items() if u == user_id and day >= since]
        return sorted(found, key=lambda c: c.day)

    def claim_nudges(self, now: datetime, grace: timedelta,
                     schedule: Callable[[Reminder, datetime], tuple[datetime, datetime]],
                     limit: int | None = None) -> list[Nudge]:
        claimed = []
        with self._lock:
            due = sorted((r for r in self._reminders.values() if r.next_due <= now),
                         key=lambda r: r.next_due)
            due = [r for r in due if (raw := self._users.get(r.user_id)) is not None
                   and json.loads(raw).get("active", True)][:limit]
            for reminder in due:
                latest, upcoming = schedule(reminder, now)
                self._reminders[reminder.user_id] = dataclasses.replace(reminder,
                                                                        next_due=upcoming)
                if now - latest <= grace:
                    self._claimed[reminder.user_id] = latest
                    claimed.append(Nudge(reminder.user_id, latest))
        return claimed

    def claimed_nudges(self) -> list[Nudge]:
        with self._lock:
            return [Nudge(u, due) for u, due in sorted(self._claimed.items(),
                                                        key=lambda item: item[1])]

    def nudge_sent(self, user_id: int) -> None:
        with self._lock:
            self._claimed.pop(user_id, None)

    def _forget(self, user_id: int) -> None:
        with self._lock:
            self._users.pop(user_id, None)
            self._answers.pop(user_id, None)
            self._journal = [j for j in self._journal if j[1] != user_id]
            self._urges = [u for u in self._urges if u[0] != user_id]
            self._followups = {i: f for i, f in self._followups.items() if f.user_id != user_id}
            self._reminders.pop(user_id, None)
            self._claimed.pop(user_id, None)
            self._checkins = {k: v for k, v in self._checkins.items() if k[0] != user_id}
            self._outbox = {i: row for i, row in self._outbox.items() if row[0] != user_id}
            self._inbox = {i: raw for i, raw in self._inbox.items()
                           if decode_event(raw).user_id != user_id}

    def export(self, user_id: int) -> dict[str, Any]:
        user = self.load_user(user_id)
        return {
            "users": [{"id": user_id, "language": user.language, "timezone": user.timezone,
                       "settings": user.settings, "active": user.active}] if user.known else [],
            "conversations": [{"dialog": user.dialog, "state": user.state}]
            if user.dialog else [],
            "answers": [{"key": k, "value": v} for k, v in user.answers.items()],
            "journal": [{"kind": e.kind, "data": e.data, "created_at": e.created_at.isoformat()}
                        for e in self.journal(user_id)],
            "urges": [json.loads(raw) for uid, raw in self._urges if uid == user_id],
            "checkins": [{**dataclasses.asdict(c), "day": c.day.isoformat()}
                         for c in self.checkins(user_id, date.min)],
            "followups": [{"due": f.due.isoformat(), "dialog": f.dialog}
                          for f in self.pending_followups() if f.user_id == user_id],
            "reminders": [{"local_time": r.local_time, "zone": r.zone}
                          for r in [self.reminder(user_id)] if r],
        }

    def stats(self) -> dict[str, int]:
        with self._lock:
            users = [json.loads(raw) for raw in self._users.values()]
        return {"people": len(users), "active": sum(1 for u in users if u.get("active", True)),
                "daily check-ins set": len(self._reminders), "check-ins": len(self._checkins),
                "urges logged": len(self._urges), "journal entries": len(self._journal)}

    def close(self) -> None:
        pass
