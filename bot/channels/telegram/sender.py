"""Send replies to Telegram without losing or reordering them.

- 429: wait the `retry_after` Telegram asks for, then retry.
- Timeouts and other network errors (5xx included): retry with exponential backoff.
- 400 Bad Request: never retried blindly (it would fail the same way); logged, skipped.
- 403 Forbidden: the person blocked the bot; they are marked inactive.
The overall 30 messages/s is PriorityLimiter's job (limiter.py), told each message's
priority; this adds the per-chat pace (a short burst, then about one message a second). A
chat's messages are sent one at a time by the caller (the dispatcher's per-user lock), so a
retry never lets a later message overtake.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import Enum
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.telegram.convert import keyboard
from bot.events import Outgoing, Priority

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Delivery(Enum):
    SENT = "sent"
    REFUSED = "refused"  # 400: this message can never be sent as it is
    BLOCKED = "blocked"  # 403: the person blocked the bot
    FAILED = "failed"  # retries used up: Telegram or the network stayed down

    @property
    def goes_on(self) -> bool:
        """Whether the rest of a step's replies are worth sending: after a refused one
        they still help; after a block or an outage they cannot arrive either."""
        return self in (Delivery.SENT, Delivery.REFUSED)


class ChatPacer:
    """At most `burst` messages in any `period` seconds to one chat: short bursts, about
    one a second over time (Telegram's advice). Remembers the last `size` chats."""

    def __init__(self, burst: int = 5, period: float = 5.0, size: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.burst, self.period, self.size, self._clock = burst, period, size, clock
        self._sent: OrderedDict[int, deque[float]] = OrderedDict()

    def delay(self, chat_id: int) -> float:
        """How long to wait before the next message to this chat (and count it as sent)."""
        if not self.burst:
            return 0.0  # the pace is off
        now = self._clock()
        times = self._sent.pop(chat_id, None) or deque(maxlen=self.burst)
        wait = 0.0
        if len(times) == self.burst:
            wait = max(0.0, times[0] + self.period - now)
        times.append(now + wait)
        self._sent[chat_id] = times
        while len(self._sent) > self.size:
            self._sent.popitem(last=False)
        return wait


class Sender:
    def __init__(self, bot: Bot, *, share_location_label: str,
                 on_blocked: Callable[[int], Awaitable[None]], max_attempts: int = 6,
                 backoff: float = 0.5, pacer: ChatPacer | None = None,
                 sleep: Sleep = asyncio.sleep, prioritised: bool = False):
        self.bot = bot
        self.share_location_label = share_location_label
        self.on_blocked = on_blocked
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.pacer = pacer or ChatPacer()
        self.sleep = sleep
        # Only a bot with a rate limiter takes python-telegram-bot's rate_limit_args.
        self.prioritised = prioritised

    async def send(self, chat_id: int, reply: Outgoing) -> Delivery:
        wait = self.pacer.delay(chat_id)
        # A crisis reply is never held back by the pace: Telegram's per-chat limit is a
        # guideline, and a 429 would be waited out; a person in danger should not wait.
        if wait and reply.priority is not Priority.CRISIS:
            await self.sleep(wait)
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._send_once(chat_id, reply)
                return Delivery.SENT
            except RetryAfter as exc:
                log.warning("Telegram asked to slow down (429): waiting %.0fs before "
                            "retrying chat %s", _retry_seconds(exc), chat_id)
                await self.sleep(_retry_seconds(exc))
            except Forbidden:
                log.info("chat %s blocked the bot; marked inactive", chat_id)
                await self.on_blocked(chat_id)
                return Delivery.BLOCKED
            except BadRequest as exc:
                log.error("Telegram refused a message to chat %s: %s", chat_id, exc.message)
                return Delivery.REFUSED
            except (TimedOut, NetworkError) as exc:
                if attempt == self.max_attempts:
                    break
                delay = min(self.backoff * 2 ** (attempt - 1), 30.0)
                log.warning("sending to chat %s failed (%s); retry %d in %.1fs", chat_id,
                            type(exc).__name__, attempt, delay)
                await self.sleep(delay)
        log.error("gave up sending a message to chat %s after %d attempts", chat_id,
                  self.max_attempts)
        return Delivery.FAILED

    async def _send_once(self, chat_id: int, reply: Outgoing) -> None:
        markup = keyboard(reply, self.share_location_label)
        # A mapping, never a bare number: python-telegram-bot drops falsy rate_limit_args,
        # and the crisis reply's priority is 0 (it went out as an ordinary reply).
        extra: dict[str, Any] = {"rate_limit_args": {"priority": int(reply.priority)}} \
            if self.prioritised else {}
        if reply.photo is not None:
            await self.bot.send_photo(chat_id, reply.photo, caption=reply.text or None,
                                      parse_mode=ParseMode.HTML, reply_markup=markup, **extra)
        elif reply.document is not None:
            name, content = reply.document
            await self.bot.send_document(chat_id, content, filename=name,
                                         caption=reply.text or None,
                                         parse_mode=ParseMode.HTML, reply_markup=markup,
                                         **extra)
        elif reply.venue is not None:
            v = reply.venue
            await self.bot.send_venue(chat_id, v.latitude, v.longitude, v.title, v.address,
                                      reply_markup=markup, **extra)
        elif reply.location is not None:
            await self.bot.send_location(chat_id, reply.location.latitude,
                                         reply.location.longitude, reply_markup=markup,
                                         **extra)
        else:
            await self.bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML,
                                        reply_markup=markup, **extra)


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about int vs timedelta; either is fine here
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
