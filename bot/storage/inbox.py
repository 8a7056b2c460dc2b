"""Updates received but not yet handled, as JSON (the inbox).

Polling saves each batch here before confirming it to Telegram, then handles the updates
without holding up the next batch: a person whose reply waits out a 429 no longer holds
everyone else's messages. A step deletes its update's row in its own transaction, so after
a crash the rows left are exactly the updates still to handle.
"""

from __future__ import annotations

import json
from typing import Any

from bot.events import Incoming, Kind, Location


def encode(event: Incoming) -> str:
    data: dict[str, Any] = {"user_id": event.user_id, "kind": event.kind.value, "text": event.text,
            "command": event.command, "data": event.data, "update_id": event.update_id,
            "language": event.language}
    if event.location is not None:
        data["location"] = [event.location.latitude, event.location.longitude]
    return json.dumps(data, ensure_ascii=False)


def decode(raw: str) -> Incoming:
    data = json.loads(raw)
    location = data.get("location")
    return Incoming(data["user_id"], Kind(data["kind"]), text=data["text"],
                    command=data["command"], data=data["data"],
                    location=Location(*location) if location else None,
                    update_id=data["update_id"], language=data.get("language"))
